#!/bin/bash
# `tcplab export`: the SVG is well-formed XML (xmllint) and renders to a PNG
# that is not blank (rsvg-convert); the HTML page, stepped in headless
# Chromium by its own keyboard handler, shows the same segments as the text
# ladder of that step; captures export too; bad command lines exit 2.
#
# usage: run_export.sh TCPLAB LESSON_04 CAPTURE.pcap
set -u
export LANG=C.UTF-8 LC_ALL=C.UTF-8
TCPLAB=${1:?usage: run_export.sh TCPLAB LESSON CAPTURE}
LESSON=${2:?usage: run_export.sh TCPLAB LESSON CAPTURE}
CAPTURE=${3:?usage: run_export.sh TCPLAB LESSON CAPTURE}
for tool in xmllint rsvg-convert chromium python3; do
    command -v $tool >/dev/null || { echo "SKIP: $tool missing (scripts/deps.sh test)"; exit 77; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/tcplab-export.XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

# The segment labels of a text ladder, one per line, in order.
txt_labels() {
    python3 -c '
import re, sys
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.search(r"[─◀]+ (.*?) [─▶]+", line)
    if m and "│" in line:
        print(m.group(1))' "$1"
}
# The segment labels a browser shows in a dumped DOM: text of class "lbl"
# outside any element hidden with display: none.
dom_labels() {
    python3 - "$1" <<'EOF'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.stack = []; s.out = []; s.cur = None
    def handle_starttag(s, tag, attrs):
        a = dict(attrs)
        hidden = "display: none" in (a.get("style") or "")
        s.stack.append((tag, hidden or (bool(s.stack) and s.stack[-1][1])))
        if tag == "text" and "lbl" in (a.get("class") or "").split() and not s.stack[-1][1]:
            s.cur = ""
    def handle_endtag(s, tag):
        while s.stack:
            t, _ = s.stack.pop()
            if t == tag: break
        if tag == "text" and s.cur is not None:
            s.out.append(s.cur); s.cur = None
    def handle_data(s, d):
        if s.cur is not None: s.cur += d
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read())
print("\n".join(p.out))
EOF
}
# Visible narration (the one <p class="say"> not hidden).
dom_words() {
    python3 -c '
import re, sys
page = open(sys.argv[1], encoding="utf-8").read()
for m in re.finditer(r"<p class=\"say\"([^>]*)>(.*?)</p>", page, re.S):
    if "display: none" not in m.group(1):
        print(__import__("html").unescape(m.group(2)))' "$1"
}
browser() { # browser URL OUT: the DOM after the page's scripts ran
    timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$work/chromium" --dump-dom "$1" >"$2" 2>"$work/chromium.err"
}

# --- SVG -----------------------------------------------------------------------
for lang in en zh; do
    svg="$work/l4-$lang.svg"
    if "$TCPLAB" export --svg --lang $lang "$LESSON@19" -o "$svg" && xmllint --noout "$svg"; then
        ok "SVG ($lang) is well-formed XML"
    else
        fail "SVG ($lang) export or xmllint"
    fi
    if rsvg-convert -o "$work/l4-$lang.png" "$svg" 2>"$work/rsvg.err"; then
        # Not blank: width and height from the IHDR, and enough compressed
        # detail that something was drawn.
        read -r w h size < <(python3 -c '
import struct, sys, os
b = open(sys.argv[1], "rb").read(32)
print(*struct.unpack(">II", b[16:24]), os.path.getsize(sys.argv[1]))' "$work/l4-$lang.png")
        if [ "$w" -ge 1000 ] && [ "$h" -ge 500 ] && [ "$size" -gt 30000 ]; then
            ok "SVG ($lang) renders to a ${w}x${h} PNG of $size bytes"
        else
            fail "PNG ($lang) looks blank: ${w}x${h}, $size bytes"
        fi
    else
        fail "rsvg-convert ($lang)"; cat "$work/rsvg.err"
    fi
done
if grep -q "TIME_WAIT" "$work/l4-en.svg" && grep -q "LAST_ACK" "$work/l4-en.svg" &&
    grep -q "FIN,ACK seq=1 ack=2" "$work/l4-en.svg" && grep -q "四次挥手" "$work/l4-zh.svg" &&
    grep -q "Noto Sans CJK SC" "$work/l4-zh.svg"; then
    ok "SVG holds the states, the labels, the Chinese title and names the CJK font"
else
    fail "SVG content"
fi
# Step 19's ladder and no later segment.
"$TCPLAB" export --txt --width 200 "$LESSON@19" >"$work/l4-19.txt"
if [ "$(grep -c 'class="lbl"' "$work/l4-en.svg")" = "$(txt_labels "$work/l4-19.txt" | wc -l)" ]; then
    ok "SVG at step 19 draws as many segments as the text ladder"
else
    fail "SVG and text ladder disagree on the number of segments"
fi

# --- text ----------------------------------------------------------------------
if grep -q "\[TIME_WAIT\] ← rcvd FIN" "$work/l4-19.txt" && grep -q "SYN_SENT │" "$work/l4-19.txt" &&
    grep -q "client acknowledges the server's FIN" "$work/l4-19.txt"; then
    ok "text ladder: states, lanes, narration"
else
    fail "text ladder"; cat "$work/l4-19.txt"
fi

# --- HTML, stepped by its own keys -----------------------------------------------
html="$work/l4.html"
"$TCPLAB" export --html "$LESSON@0" -o "$html" || fail "HTML export"
if grep -q "<script" "$html" && ! grep -Eq '(src|href)="(https?:|//|[^"#]*\.(js|css))' "$html"; then
    ok "HTML is one self-contained file (no external script, style or link)"
else
    fail "HTML refers to something outside it"
fi
# Step straight to 12 through the address, then compare with the text ladder.
browser "file://$html#12" "$work/dom12.html"
"$TCPLAB" export --txt --width 200 "$LESSON@12" >"$work/l4-12.txt"
if [ -s "$work/dom12.html" ] && diff <(dom_labels "$work/dom12.html") <(txt_labels "$work/l4-12.txt") \
    >"$work/diff"; then
    ok "HTML at #12 shows exactly the text ladder's segments of step 12 ($(txt_labels "$work/l4-12.txt" | wc -l))"
else
    fail "HTML #12 vs text ladder"; cat "$work/diff"
fi
# Keys: → seven times, ← once, then l: step 6 in Chinese.
keyed="$work/keyed.html"
sed 's#</body>#<script>["ArrowRight","ArrowRight","ArrowRight","ArrowRight","ArrowRight","ArrowRight","ArrowRight","ArrowLeft","l"].forEach(function(k){document.dispatchEvent(new KeyboardEvent("keydown",{key:k}));});</script></body>#' \
    "$html" >"$keyed"
browser "file://$keyed" "$work/dom6.html"
"$TCPLAB" export --txt --width 200 "$LESSON@6" >"$work/l4-6.txt"
"$TCPLAB" export --txt --lang zh --width 200 "$LESSON@6" >"$work/l4-6zh.txt"
zh_words=$(dom_words "$work/dom6.html")
if diff <(dom_labels "$work/dom6.html") <(txt_labels "$work/l4-6.txt") >"$work/diff" &&
    grep -q "第 6/" "$work/dom6.html" && [ -n "$zh_words" ] &&
    python3 -c '
import sys
squeeze = lambda t: "".join(t.split())
sys.exit(0 if squeeze(sys.argv[1]) in squeeze(open(sys.argv[2], encoding="utf-8").read()) else 1)' \
        "$zh_words" "$work/l4-6zh.txt"; then
    ok "HTML stepped by its keys (→×7 ←, l) shows step 6 in Chinese, as the text ladder"
else
    fail "HTML key stepping"; cat "$work/diff"; echo "words: $zh_words"
fi

# --- a capture exports like a lesson ---------------------------------------------
if "$TCPLAB" export --txt --conn 8080 "$CAPTURE" >"$work/cap.txt" 2>/dev/null &&
    grep -q "captured" "$work/cap.txt" && grep -q "TIME_WAIT" "$work/cap.txt" &&
    grep -q "CAPTURE" "$work/cap.txt"; then
    ok "a capture's connection exports as text"
else
    fail "capture export"; cat "$work/cap.txt"
fi
if "$TCPLAB" export --svg --conn 8080 "$CAPTURE@3" 2>/dev/null | xmllint --noout -; then
    ok "a capture's connection exports as SVG"
else
    fail "capture SVG"
fi

# --- bad command lines -------------------------------------------------------------
bad() { # bad WHAT PATTERN ARGS...
    local what=$1 pattern=$2
    shift 2
    "$TCPLAB" export "$@" >"$work/out" 2>&1
    local status=$?
    if [ $status -eq 2 ] && grep -q "$pattern" "$work/out"; then
        ok "bad: $what (exit 2)"
    else
        fail "bad: $what (status $status)"; cat "$work/out"
    fi
}
bad "no format" "which format" "$LESSON"
bad "two formats" "one format" --svg --txt "$LESSON"
bad "no lesson" "which lesson" --svg
bad "a step past the end" "does not exist" --txt "$LESSON@999"
bad "a missing lesson" "cannot\|No such" --txt no-such-lesson.tcps
echo "not a capture" >"$work/bad.pcap"
bad "a bad capture" "not a capture" --txt "$work/bad.pcap"
# A lesson by its number.
if cmp -s <("$TCPLAB" export --txt 4@19 | head -n -1) <("$TCPLAB" export --txt "$LESSON@19" | head -n -1); then
    ok "lesson 4 by its number"
else
    fail "export --txt 4"
fi
# --- the e key in the terminal UI (tmux) ---------------------------------------------
if command -v tmux >/dev/null; then
    sock="tcplab-export-$$"
    lesson_abs=$(cd "$(dirname "$LESSON")" && pwd)/$(basename "$LESSON")
    tcplab_abs=$(cd "$(dirname "$TCPLAB")" && pwd)/$(basename "$TCPLAB")
    mkdir -p "$work/ui"
    tmux -L "$sock" new-session -d -s play -x 100 -y 30 -c "$work/ui" \
        "LANG=C.UTF-8 $tcplab_abs play $lesson_abs"
    pane() { tmux -L "$sock" capture-pane -t play -p 2>/dev/null; }
    wait_for() { for _ in $(seq 100); do pane | grep -qF -- "$1" && return 0; sleep 0.1; done; return 1; }
    wait_for "step 0/" && for _ in 1 2 3; do tmux -L "$sock" send-keys -t play Right; done
    wait_for "step 3/" && tmux -L "$sock" send-keys -t play e
    if wait_for "wrote tcplab-04-teardown-step3.svg" &&
        xmllint --noout "$work/ui/tcplab-04-teardown-step3.svg" &&
        [ "$(grep -c 'class="lbl"' "$work/ui/tcplab-04-teardown-step3.svg")" = \
          "$("$TCPLAB" export --txt --width 200 "$LESSON@3" >"$work/l4-3.txt"; txt_labels "$work/l4-3.txt" | wc -l)" ]; then
        ok "key e in the UI writes step 3 as SVG and says where"
    else
        fail "key e"; pane
    fi
    tmux -L "$sock" send-keys -t play '?'
    if wait_for "export this step as SVG"; then
        ok "the help overlay lists e"
    else
        fail "help overlay without e"; pane
    fi
    tmux -L "$sock" send-keys -t play q q
    tmux -L "$sock" kill-server 2>/dev/null
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
