#!/usr/bin/env bash
# scripts/check-standalone.sh — fails when a tracked file cites documents that live outside the
# repository (a sibling "shared" folder, an external spec or style guide, "section n" of one). A
# clone has none of them: the project describes itself in docs/design.md and docs/api.md, and a
# comment states its rule or links there. Run by the format stage of ./bk test; exit 1 on a hit.
set -euo pipefail
export LC_ALL=C

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Assembled from pieces, so that this file does not match itself.
up='\.\.'
spec="SPEC"
style="STYLE"
patterns=(-e "${up}/shared" -e "${spec}\.md" -e "${spec} §" -e "${style}\.md")

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Every tracked file (as it is in the work tree), binary files left out.
    found=$(git grep -n -I -E "${patterns[@]}" || true)
else
    # Not a git checkout (an exported tarball): every file but what builds and runs produce.
    found=$(grep -rnI -E "${patterns[@]}" --exclude-dir=.git --exclude-dir=.state --exclude-dir='build*' \
        --exclude-dir=node_modules --exclude-dir=dist . || true)
fi

if [[ -n $found ]]; then
    printf '%s\n' "$found" >&2
    printf 'check-standalone: %d line(s) above cite documents outside the repository; state the rule, or link\n' \
        "$(printf '%s\n' "$found" | wc -l)" >&2
    printf 'check-standalone: docs/design.md or docs/api.md instead\n' >&2
    exit 1
fi
echo "check-standalone: no tracked file cites documents outside the repository"
