#!/usr/bin/env bash
# Every "FILE.md#anchor" cited in src/, include/, tests/, docs/ and README.md, and every
# "](#anchor)" inside a Markdown file, names a heading that exists (GitHub's anchors: lower
# case, punctuation dropped, spaces to '-'). Comments cite the design this way
# (docs/design.md), so a renamed heading must take its citations with it. Exit 1 on a dangling one.
set -euo pipefail
cd "$(dirname "$0")/.."

anchors() {     # the anchors of a Markdown file, one a line
    awk '/^```/ { code = !code } !code && /^#+ / {
        sub(/^#+ +/, ""); s = tolower($0)
        gsub(/[^a-z0-9 _-]/, "", s); gsub(/ /, "-", s); print s }' "$1"
}

bad=0
check() {       # check WHERE FILE ANCHOR
    local where=$1 file=$2 anchor=$3
    if [ ! -f "$file" ]; then
        echo "$where: $file does not exist"; bad=1
    elif ! anchors "$file" | grep -qxF -- "$anchor"; then
        echo "$where: $file has no heading for #$anchor"; bad=1
    fi
}

while IFS=: read -r f l ref; do
    file=${ref%%#*} anchor=${ref#*#}
    case $file in
        README.md) path=README.md ;;
        docs/*) path=$file ;;
        *.md) path=$(dirname "$f")/$file ;;   # relative, inside docs/
    esac
    check "$f:$l" "$path" "$anchor"
done < <(grep -rnoE '(README|[a-z/]*[a-z]+)\.md#[a-z0-9_-]+' src include tests docs README.md || true)

for md in README.md docs/*.md; do
    while IFS=: read -r l ref; do
        check "$md:$l" "$md" "${ref#](#}"
    done < <(grep -noE '\]\(#[a-z0-9_-]+' "$md" | sed 's/)$//' || true)
done

[ "$bad" = 0 ] && echo "every cited section exists"
exit "$bad"
