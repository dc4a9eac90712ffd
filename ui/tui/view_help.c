/*
 * view_help.c — the list of every key (the one table the help overlay, the
 * docs and the tests all use) and the help overlay drawn over the frame.
 */
#include <stdio.h>
#include <string.h>

#include "view.h"

const struct ui_key_help ui_play_keys[] = {
    {"space", "play / pause", "播放 / 暂停"},
    {"\u2192  n", "next step", "下一步"},
    {"\u2190  b", "step back (replayed from the record)", "后退一步（按记录重放）"},
    {"+  -", "faster / slower", "加快 / 减慢"},
    {"Home  End", "first / last step", "第一步 / 最后一步"},
    {"\u2191  \u2193", "select a segment", "选择报文段"},
    {"PgUp PgDn", "scroll the ladder or the details", "滚动梯形图或详情"},
    {"d", "segment details: fields and hex", "报文段详情：字段与十六进制"},
    {"a", "absolute / relative sequence numbers", "绝对 / 相对序列号"},
    {"g", "whole state diagram (RFC 9293)", "完整状态图（RFC 9293）"},
    {"c", "cwnd graph: congestion window over time", "拥塞窗口（cwnd）随时间变化的图"},
    {"l", "narration in English / 中文", "解说语言 English / 中文"},
    {"p", "quiz: predict each step (1-4, s skip)", "测验：预测每一步（1-4 作答，s 跳过）"},
    {"t", "time-true ladder: time runs down", "按时间比例的梯形图"},
    {"e", "export this step as SVG (tcplab-*.svg here)",
     "把这一步导出为 SVG（当前目录 tcplab-*.svg）"},
    {"?", "this help (\u2192 \u2190 turn its pages, other keys close it)",
     "本帮助（\u2192 \u2190 翻页，其他键关闭）"},
    {"Esc", "close the help, details, diagram or cwnd graph", "关闭帮助、详情、状态图或拥塞窗口图"},
    {"q", "quit", "退出"},
};
const size_t ui_play_nkeys = sizeof ui_play_keys / sizeof ui_play_keys[0];

/* The overlay's height and the rows it has for keys at a screen height. */
static int help_height(int screen_h)
{
    int h = (int)ui_play_nkeys + 6;
    return h > screen_h - 2 ? screen_h - 2 : h;
}

/* Keys per page: all of them, or one row fewer when paged (the last row
 * says which page this is). */
static int help_per_page(int screen_h)
{
    int rows = help_height(screen_h) - 5;
    if (rows >= (int)ui_play_nkeys)
        return (int)ui_play_nkeys;
    return rows > 2 ? rows - 1 : 1;
}

int ui_help_pages(int screen_h)
{
    int per = help_per_page(screen_h);
    return ((int)ui_play_nkeys + per - 1) / per;
}

void ui_view_help(struct screen *s, bool zh, int page)
{
    int w = 76, h = help_height(s->h); /* the legend below needs 70 columns */
    if (w > s->w - 2)
        w = s->w - 2;
    int x = (s->w - w) / 2, y = (s->h - h) / 2;
    int per = help_per_page(s->h), pages = ui_help_pages(s->h);
    if (page < 0 || page >= pages)
        page = 0;
    screen_fill(s, x, y, w, h, ' ', SC_NORMAL);
    screen_box(s, x, y, w, h, true, (uint16_t)(SC_TITLE | SA_BOLD), zh ? "按键 keys" : "keys 按键");
    size_t first = (size_t)(page * per);
    for (size_t i = first; i < ui_play_nkeys && i < first + (size_t)per; i++) {
        int row = y + 2 + (int)(i - first);
        screen_print(s, x + 3, row, 12, (uint16_t)(SC_HILITE | SA_BOLD), ui_play_keys[i].keys);
        screen_print(s, x + 16, row, w - 18, SC_NORMAL,
                     zh ? ui_play_keys[i].zh : ui_play_keys[i].en);
    }
    if (pages > 1)
        screen_printf(s, x + 3, y + 2 + per, w - 6, (uint16_t)(SC_TITLE | SA_BOLD),
                      zh ? "第 %d/%d 页 \u00b7 \u2192 下一页 \u00b7 \u2190 上一页 \u00b7 其他键关闭"
                         : "page %d/%d \u00b7 \u2192 next page \u00b7 \u2190 previous \u00b7 "
                           "other keys close",
                      page + 1, pages);
    screen_print(s, x + 3, y + h - 3, w - 6, SC_DIM,
                 zh ? "箭头：已发送 ──▶  丢失 ──✗  重传 ↻  双线框:状态刚改变"
                    : "sent \u2500\u2500\u25b6   lost \u2500\u2500\u2717   retransmitted \u21bb   "
                      "double box: state just changed");
}
