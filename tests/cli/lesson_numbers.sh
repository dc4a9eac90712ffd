#!/usr/bin/env bash
# lesson_numbers.sh TCPLAB — what a lesson's narration says about numbers is
# on its ladder: every "seq=N", "ack=N", "win=N" and "len=N" in the words of
# a step (English and Chinese) appears in a segment label of that step's
# screen, and every "ack = N" / "ack=N" in prose as well. A teacher reading
# the narration aloud must never point at a number the ladder contradicts.
set -euo pipefail
tcplab=$1
here=$(cd "$(dirname "$0")" && pwd)
command -v python3 >/dev/null || { echo "python3 missing: skipping"; exit 77; }
python3 - "$tcplab" "$here"/../../scenarios/lessons/*.tcps <<'EOF'
import re, subprocess, sys
tcplab, lessons = sys.argv[1], sys.argv[2:]
HEADER = ("title", "hosts", "profile", "set", "seed", "timeout", "tun")
ATTACHED = ("say", "ask", "hint")


def narration_by_step(path):
    """{(step, lang): words}, steps counted as the player counts them."""
    steps, said = 0, {}
    for line in open(path, encoding="utf-8"):
        words = line.split("#", 1)[0].split() if not line.lstrip().startswith("say") else line.split()
        if not words:
            continue
        if words[0] in ATTACHED:
            if words[0] == "say":
                m = re.match(r'\s*say\s+(en|zh)\s+"(.*)"\s*$', line)
                if m:
                    key = (max(steps, 1), m.group(1))
                    said[key] = said.get(key, "") + " " + m.group(2)
            continue
        if words[0] in HEADER:
            continue
        steps += 1
    return steps, said


bad = 0
checked = 0
for f in lessons:
    first = subprocess.run([tcplab, "play", "--dump-screen", "0", f], capture_output=True,
                           text=True, check=True).stdout
    n = int(re.search(r"step 0/(\d+)", first).group(1))
    steps, said = narration_by_step(f)
    if steps != n:
        print("FAIL: %s: counted %d steps, the player has %d" % (f, steps, n))
        bad += 1
        continue
    for (k, lang), words in sorted(said.items()):
        nums = re.findall(r"\b(seq|ack|win|len)\s?=\s?(\d+)", words)
        if not nums:
            continue
        out = subprocess.run([tcplab, "play", "--lang", lang, "--dump-screen", str(k),
                              "--size", "220x70", f], capture_output=True, text=True,
                             check=True).stdout.split("\n")
        sep = next(i for i, l in enumerate(out) if "narration ·" in l)
        ladder = "\n".join(out[:sep])
        for key, num in nums:
            checked += 1
            if "%s=%s" % (key, num) not in ladder:
                bad += 1
                print("FAIL: %s step %d (%s) says %s=%s, not on its ladder"
                      % (f.split("/")[-1], k, lang, key, num))
if checked < 10:
    print("FAIL: only %d numbers found: is the narration still on screen?" % checked)
    bad += 1
print("%d numbers checked, %d not on the ladder" % (checked, bad))
sys.exit(1 if bad else 0)
EOF
