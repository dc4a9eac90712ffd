/*
 * export_html.c — one self-contained HTML page that steps through a lesson
 * in a browser (export.h): no server, no external file. The page holds the
 * whole ladder as inline SVG, every row tagged with the step it appears in
 * (data-s), the state boxes and the narration (English and Chinese) of
 * every step; a small script shows what belongs to the current step.
 *
 * Keys: → n space next, ← b back, Home End, l English ⇄ 中文. The step is
 * also in the address (page.html#5), so a link opens a given step and a
 * headless browser can be pointed at one.
 */
#include <errno.h>
#include <string.h>

#include "export.h"

#define SVG_W    1280
#define LADDER_Y 262
#define ROW_H    30

static const char page_style[] =
    "body{margin:0;background:#fff;color:#000;font-family:'Noto Sans CJK SC','Noto Sans SC',"
    "'Source Han Sans SC','PingFang SC','Microsoft YaHei','DejaVu Sans',sans-serif}\n"
    "#bar{position:sticky;top:0;background:#f0f0f0;border-bottom:1px solid #ccc;padding:8px 24px;"
    "font-size:16px;display:flex;gap:24px;align-items:baseline;z-index:1}\n"
    "#bar b{font-size:20px}\n"
    "#keys{color:#555;font-size:14px;margin-left:auto}\n"
    "#pic{display:block;width:100%;max-width:1280px;height:auto}\n"
    "#narr{max-width:1200px;margin:4px 40px 40px;font-size:20px;line-height:1.5;min-height:4em}\n"
    ".seg.cur line{stroke-width:2.8}.seg.cur .lbl{font-weight:bold}\n"
    "button{font-size:16px;padding:2px 10px}\n";

static const char page_script[] =
    "(function(){\n"
    "var pic=document.getElementById('pic'),N=+pic.getAttribute('data-steps');\n"
    "var cur=+pic.getAttribute('data-step'),zh=pic.getAttribute('data-zh')==='1';\n"
    "var rows=[].slice.call(pic.querySelectorAll('[data-s]'));\n"
    "var st=[].slice.call(pic.querySelectorAll('g.states'));\n"
    "var says=[].slice.call(document.querySelectorAll('#narr .say'));\n"
    "function show(){\n"
    " var last=null;\n"
    " rows.forEach(function(e){var s=+e.getAttribute('data-s');\n"
    "  e.style.display=s<=cur?'':'none';\n"
    "  if(e.classList.contains('seg'))e.classList.toggle('cur',s===cur);\n"
    "  if(s<=cur&&e.classList.contains('row'))last=e;});\n"
    " var t='';\n"
    " st.forEach(function(e){var on=+e.getAttribute('data-step')===cur;\n"
    "  e.style.display=on?'':'none';if(on)t=e.getAttribute('data-t');});\n"
    " says.forEach(function(e){var on=+e.getAttribute('data-step')===cur&&\n"
    "  (e.getAttribute('lang')==='zh-Hans')===zh;e.style.display=on?'':'none';});\n"
    " document.getElementById('where').textContent=(zh?'第 '+cur+'/'+N+' 步':'step '+cur+'/'+N)"
    "+'  t='+t+'s';\n"
    " document.getElementById('lang').textContent=zh?'English':'中文';\n"
    " if(location.hash!=='#'+cur)history.replaceState(null,'','#'+cur);\n"
    " if(last&&last.scrollIntoView)last.scrollIntoView({block:'nearest'});\n"
    "}\n"
    "function go(k){cur=Math.max(0,Math.min(N,k));show();}\n"
    "document.addEventListener('keydown',function(ev){var k=ev.key;\n"
    " if(k==='ArrowRight'||k==='n'||k===' '){go(cur+1);}\n"
    " else if(k==='ArrowLeft'||k==='b'){go(cur-1);}\n"
    " else if(k==='Home'){go(0);}else if(k==='End'){go(N);}\n"
    " else if(k==='l'){zh=!zh;show();}else return;\n"
    " ev.preventDefault();});\n"
    "document.getElementById('prev').onclick=function(){go(cur-1);};\n"
    "document.getElementById('next').onclick=function(){go(cur+1);};\n"
    "document.getElementById('lang').onclick=function(){zh=!zh;show();};\n"
    "window.addEventListener('hashchange',function(){var h=parseInt(location.hash.slice(1),10);"
    "if(!isNaN(h)&&h!==cur)go(h);});\n"
    "var h=parseInt(location.hash.slice(1),10);if(!isNaN(h))cur=Math.max(0,Math.min(N,h));\n"
    "show();\n"
    "})();\n";

int ui_export_html(FILE *out, const struct ui_export_doc *d, const struct ui_export_opts *o)
{
    size_t k = o->step < d->nsteps ? o->step : d->nsteps;
    int height = ui_export_svg_ladder_bottom(d->nrows) + 20;
    fprintf(out,
            "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"generator\" content=\"tcplab export --html\">\n<title>",
            o->zh ? "zh-Hans" : "en");
    ui_export_xml_text(out, ui_export_title(d->tl, o->zh));
    fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<div id=\"bar\"><b>", page_style);
    ui_export_xml_text(out, ui_export_title(d->tl, o->zh));
    fprintf(out,
            "</b><span>%s</span><span id=\"where\"></span>"
            "<span><button id=\"prev\">\u2190</button> <button id=\"next\">\u2192</button> "
            "<button id=\"lang\"></button></span>"
            "<span id=\"keys\">\u2192 / \u2190 step \u00b7 Home End \u00b7 l English/\u4e2d\u6587"
            "</span></div>\n",
            o->mode ? o->mode : "VIRTUAL");
    fprintf(out,
            "<svg id=\"pic\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
            "data-steps=\"%zu\" data-step=\"%zu\" data-zh=\"%d\">\n"
            "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
            SVG_W, height, d->nsteps, k, o->zh ? 1 : 0, SVG_W, height);
    for (size_t s = 0; s <= d->nsteps; s++) {
        const struct ui_export_step *st = &d->steps[s];
        fprintf(out, "<g class=\"states\" data-step=\"%zu\" data-t=\"%llu.%06llu\">\n", s,
                (unsigned long long)(st->t_us / 1000000), (unsigned long long)(st->t_us % 1000000));
        ui_export_svg_states(out, d, s);
        fputs("</g>\n", out);
    }
    ui_export_svg_ladder(out, d, k, true, o->zh);
    fputs("</svg>\n<div id=\"narr\">\n", out);
    for (size_t s = 0; s <= d->nsteps; s++) {
        for (int zh = 0; zh < 2; zh++) {
            fprintf(out, "<p class=\"say\" data-step=\"%zu\" lang=\"%s\">", s,
                    zh ? "zh-Hans" : "en");
            char wbuf[4096];
            ui_export_xml_text(out, ui_export_words(d->tl, s, zh, wbuf, sizeof wbuf));
            fputs("</p>\n", out);
        }
    }
    fprintf(out, "</div>\n<script>\n%s</script>\n</body>\n</html>\n", page_script);
    return ferror(out) ? -EIO : 0;
}
