#!/usr/bin/env bash
# Check docs/conformance.md and count what it claims.
#
# The document has one table row per requirement:
#   | ReqID | requirement | status | where (file : function) | tests | notes |
# Appendix B of RFC 9293 names MUST-1..MUST-69, SHLD-1..SHLD-31, MAY-1..MAY-18
# and REC-1; each must have exactly one row. The other RFCs' tables use IDs
# such as "RFC5961-3.2". Status is one of
#   yes      implemented, and (for a MUST) proved by a test whose name
#            carries the ReqID ("must38" for MUST-38)
#   impl     implemented, but no test named after the ReqID yet
#   partial  part of it is implemented (the notes say which)
#   no       not implemented (the notes say why)
#   n/a      does not apply to this stack (the notes say why)
#   not-yet  being built now (other tables only)
# Tests are written in backquotes, separated by commas:
#   `unit.test_tcp_rst`                      a ctest test
#   `unit.test_tcp_rst:test_rst_...`         one cmocka test in that program
#   `scenario.regress.x`, `pkt.behaviour.x`, `tun.x`, `cli.x`, `ui.x`
# Every named test must exist: in `ctest -N` when a build directory is
# given, and always as its source (tests/unit/test_*.c registering the
# cmocka test, scenarios/{lessons,regress}/*.tcps, tests/pkt/**/*.pkt).
#
# Usage: conformance-count.sh [--build DIR] [--ctest CTEST] [SOURCE_DIR]
# Prints "N of M MUSTs implemented and tested" and a breakdown; exit 1 when
# the document names a test that does not exist, a row is malformed, or
# README.md quotes another count.
set -u
build="" ctest_cmd=ctest root=""
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --ctest) ctest_cmd=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "conformance-count.sh: unknown option $1" >&2; exit 2 ;;
    *) root=$1; shift ;;
    esac
done
root=${root:-$(cd "$(dirname "$0")/.." && pwd)}
doc=$root/docs/conformance.md
[ -r "$doc" ] || { echo "conformance-count.sh: cannot read $doc" >&2; exit 2; }

ctests=""
if [ -n "$build" ]; then
    ctests=$("$ctest_cmd" --test-dir "$build" -N 2>/dev/null | sed -n 's/^ *Test *#[0-9]*: //p')
    [ -n "$ctests" ] || { echo "conformance-count.sh: no tests listed by $ctest_cmd in $build" >&2; exit 2; }
fi

bad=0
complain() { echo "docs/conformance.md:$1: $2"; bad=1; }

# Does the named test exist? Its source always; its ctest entry with --build.
test_exists() {
    local name=$1 prog fn file
    prog=${name%%:*}
    fn=""
    [ "$prog" != "$name" ] && fn=${name#*:}
    case $prog in
    unit.test_*) file=$root/tests/unit/${prog#unit.}.c ;;
    unit.*) file="" ;;
    scenario.lessons.*) file=$root/scenarios/lessons/${prog#scenario.lessons.}.tcps ;;
    scenario.regress.*) file=$root/scenarios/regress/${prog#scenario.regress.}.tcps ;;
    scenario_tun.lessons.*) file=$root/scenarios/lessons/${prog#scenario_tun.lessons.}.tcps ;;
    scenario_tun.regress.*) file=$root/scenarios/regress/${prog#scenario_tun.regress.}.tcps ;;
    pkt.*) file=$root/tests/pkt/$(echo "${prog#pkt.}" | tr . /).pkt ;;
    tun.* | cli.* | ui.* | scenario.*) file="" ;;
    *) echo "not a test name (unit., scenario., pkt., tun., cli., ui.)"; return 1 ;;
    esac
    if [ -n "$file" ] && [ ! -f "$file" ]; then
        echo "no such file ${file#$root/}"
        return 1
    fi
    if [ -n "$fn" ]; then
        case $prog in unit.test_*) ;; *) echo "only unit.test_* programs have cmocka tests"; return 1 ;; esac
        if ! grep -Eq "cmocka_unit_test[a-z_]*\((${fn})[,)]" "$file"; then
            echo "${file#$root/} registers no cmocka test $fn"
            return 1
        fi
    fi
    if [ -n "$ctests" ] && ! grep -qxF "$prog" <<<"$ctests"; then
        echo "ctest has no test $prog"
        return 1
    fi
    return 0
}

declare -A seen=()
must_yes=0 must_impl=0 must_partial=0 must_no=0 must_na=0 rows=0 other_rows=0
lineno=0
while IFS= read -r line; do
    lineno=$((lineno + 1))
    case $line in
    "| MUST-"* | "| SHLD-"* | "| MAY-"* | "| REC-"* | "| RFC"*) ;;
    *) continue ;;
    esac
    # Split the row into its cells (no cell contains a bare '|').
    IFS='|' read -r -a cell <<<"$line"
    # cell[0] is empty (before the first '|'); the last one is empty too.
    n=$((${#cell[@]} - 1))
    if [ "$n" -ne 6 ]; then
        complain $lineno "a row needs 6 cells (ReqID, requirement, status, where, tests, notes); this one has $n"
        continue
    fi
    id=$(echo "${cell[1]}" | tr -d ' ')
    what=$(echo "${cell[2]}" | sed 's/^ *//; s/ *$//')
    status=$(echo "${cell[3]}" | tr -d ' `*')
    where=$(echo "${cell[4]}" | sed 's/^ *//; s/ *$//')
    tests=${cell[5]}
    notes=$(echo "${cell[6]}" | sed 's/^ *//; s/ *$//')
    [ -n "$what" ] || complain $lineno "$id: the requirement is empty"
    case $id in
    MUST-[0-9]* | SHLD-[0-9]* | MAY-[0-9]* | REC-[0-9]*)
        rows=$((rows + 1))
        if [ -n "${seen[$id]:-}" ]; then
            complain $lineno "$id: a second row (the first is line ${seen[$id]})"
        fi
        seen[$id]=$lineno
        case $status in yes | impl | partial | no | n/a) ;;
        *) complain $lineno "$id: status '$status' is not yes, impl, partial, no or n/a" ;;
        esac
        ;;
    RFC[0-9]*-*)
        other_rows=$((other_rows + 1))
        case $status in yes | impl | partial | no | n/a | not-yet) ;;
        *) complain $lineno "$id: status '$status' is not yes, impl, partial, no, n/a or not-yet" ;;
        esac
        ;;
    *)
        complain $lineno "'$id' is not a ReqID (MUST-n, SHLD-n, MAY-n, REC-n, RFCnnnn-...)"
        continue
        ;;
    esac
    case $status in yes | impl | partial)
        if [ -z "$where" ] || [ "$where" = "—" ]; then
            complain $lineno "$id: status $status but no function named"
        fi
        ;;
    esac
    case $status in no | n/a | partial)
        [ -n "$notes" ] && [ "$notes" != "—" ] || complain $lineno "$id: status $status needs a reason in the notes"
        ;;
    esac
    names=$(grep -o '`[^`]*`' <<<"$tests" | tr -d '`')
    named_after_id=0
    num=${id#*-}
    for t in $names; do
        if ! why=$(test_exists "$t"); then
            complain $lineno "$id: test $t does not exist: $why"
        fi
        if [[ $id == MUST-* ]] && grep -Eiq "must[-_]?${num}([^0-9]|$)" <<<"$t"; then
            named_after_id=1
        fi
    done
    if [[ $id == MUST-* ]]; then
        case $status in
        yes)
            must_yes=$((must_yes + 1))
            [ $named_after_id = 1 ] ||
                complain $lineno "$id: status yes needs a test whose name carries must$num"
            ;;
        impl) must_impl=$((must_impl + 1)) ;;
        partial) must_partial=$((must_partial + 1)) ;;
        no) must_no=$((must_no + 1)) ;;
        n/a) must_na=$((must_na + 1)) ;;
        esac
        if [ "$status" = impl ] && [ $named_after_id = 1 ]; then
            complain $lineno "$id: a test carries must$num: the status is yes, not impl"
        fi
    fi
done <"$doc"

# RFC 9293 Appendix B, Table 8: every ReqID it lists, once each.
check_ids() { # prefix, highest number
    local p=$1 max=$2 i
    for ((i = 1; i <= max; i++)); do
        [ -n "${seen[$p-$i]:-}" ] || complain 0 "$p-$i from RFC 9293 Appendix B has no row"
    done
}
check_ids MUST 69
check_ids SHLD 31
check_ids MAY 18
check_ids REC 1

musts=69
# The README quotes the count; it must be the one this page gives.
readme=$root/README.md
if [ -r "$readme" ]; then
    quoted=$(grep -o '[0-9]* of [0-9]* MUSTs implemented and tested' "$readme" | head -1)
    if [ -n "$quoted" ] && [ "$quoted" != "$must_yes of $musts MUSTs implemented and tested" ]; then
        echo "README.md says \"$quoted\"; docs/conformance.md gives $must_yes of $musts"
        bad=1
    fi
fi
echo "$must_yes of $musts MUSTs implemented and tested"
echo "  (RFC 9293 Appendix B: $must_impl more implemented without a ReqID-named test," \
    "$must_partial partly, $must_no not implemented, $must_na not applicable;" \
    "$rows Appendix B rows, $other_rows rows for other RFCs)"
exit $bad
