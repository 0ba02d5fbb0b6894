#!/bin/sh
# Opens an mvitc report page in headless Chromium and checks that it renders: the DOM after
# load has as many <svg> as the file (and some <rect>), refers to nothing outside the page, the
# page logs nothing to the console (it has no scripts, so any message is an error), and a
# screenshot OUT_DIR/report.png is written and is not blank.
# Usage: report_browser.sh REPORT.html OUT_DIR   (CHROMIUM=path overrides /usr/bin/chromium)
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 REPORT.html OUT_DIR" >&2
    exit 2
fi
html=$1
out=$2
chromium=${CHROMIUM:-/usr/bin/chromium}
failures=0
fail() { # fatal: nothing further can be checked
    echo "report_browser: FAIL: $*" >&2
    exit 1
}
check_failed() { # recorded; the remaining checks still run and the screenshot is still made
    echo "report_browser: FAIL: $*" >&2
    failures=$((failures + 1))
}

[ -f "$html" ] || fail "no such file: $html"
[ -x "$chromium" ] || fail "no Chromium at $chromium (Debian: apt-get install chromium)"
mkdir -p "$out" || fail "cannot create $out"
html_abs=$(cd "$(dirname "$html")" && pwd)/$(basename "$html")
out=$(cd "$out" && pwd)
url="file://$html_abs"

# A fresh profile and HOME in OUT_DIR: nothing from (or left in) the user's; --no-sandbox
# because CI runs as root; the screenshot of a 1400x3000 window shows the table and a chart.
rm -rf "$out/profile"
mkdir -p "$out/profile/home"
run_chromium() {
    HOME="$out/profile/home" timeout 120 "$chromium" --headless --disable-gpu --no-sandbox \
        --no-first-run --no-default-browser-check --disable-extensions \
        --user-data-dir="$out/profile" --enable-logging=stderr --v=0 "$@"
}

# 1. the DOM after load, with the console on stderr
run_chromium --dump-dom "$url" >"$out/dom.html" 2>"$out/chromium-dom.log"
rc=$?
[ $rc -eq 0 ] || fail "chromium --dump-dom exited with $rc (log: $out/chromium-dom.log)"
[ -s "$out/dom.html" ] || fail "empty DOM from chromium (log: $out/chromium-dom.log)"

svg_file=$(grep -o '<svg[ >]' "$html" | wc -l)
svg_dom=$(grep -o '<svg[ >]' "$out/dom.html" | wc -l)
rect_dom=$(grep -o '<rect[ >]' "$out/dom.html" | wc -l)
echo "report_browser: <svg> in the file: $svg_file, in the rendered DOM: $svg_dom;" \
    "<rect> in the DOM: $rect_dom"
[ "$svg_file" -gt 0 ] || check_failed "no <svg> in $html"
[ "$svg_dom" -eq "$svg_file" ] || check_failed "the DOM has $svg_dom <svg>, the file $svg_file"
[ "$rect_dom" -gt 0 ] || check_failed "no <rect> in the rendered DOM"

# Chromium 156 prints every console message of a page, whatever its level, as
#   [pid:tid:date:INFO:CONSOLE:LINE] "message", source: URL (LINE)
# (uncaught exceptions as "Uncaught ..."); a page with no scripts should print none.
console=$(grep -E ':CONSOLE[:(]|Uncaught ' "$out/chromium-dom.log")
if [ -n "$console" ]; then
    echo "$console" >&2
    check_failed "the page wrote to the console (above; log: $out/chromium-dom.log)"
else
    echo "report_browser: no console messages"
fi

n_script=$(grep -oi '<script' "$out/dom.html" | wc -l)
[ "$n_script" -eq 0 ] || check_failed "the page contains $n_script <script> element(s)"
# self-contained: no src= at all, links only to anchors of the page itself
external=$(grep -oiE '(src|href)="[^"#][^"]*"|url\(|@import' "$out/dom.html" | head -5)
if [ -n "$external" ]; then
    check_failed "the page refers to outside resources: $external"
elif [ "$n_script" -eq 0 ]; then
    echo "report_browser: no scripts, no external references"
fi

# 2. the screenshot
rm -f "$out/report.png"
run_chromium --hide-scrollbars --window-size=1400,3000 --screenshot="$out/report.png" "$url" \
    >"$out/chromium-shot.log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "chromium --screenshot exited with $rc (log: $out/chromium-shot.log)"
[ -f "$out/report.png" ] || fail "no screenshot at $out/report.png"
magic=$(od -An -tx1 -N8 "$out/report.png" | tr -d ' \n')
[ "$magic" = "89504e470d0a1a0a" ] || fail "$out/report.png is not a PNG"
size=$(wc -c <"$out/report.png")
# a blank 1400x3000 page compresses to about 19 KB; tables, text and charts are far larger
echo "report_browser: screenshot $out/report.png ($size bytes, 1400x3000)"
[ "$size" -gt 60000 ] || check_failed "$out/report.png has only $size bytes: blank page?"
rm -rf "$out/profile"
[ "$failures" -eq 0 ] || fail "$failures check(s) failed for $html"
echo "report_browser: OK $html"
