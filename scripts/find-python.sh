#!/usr/bin/env bash
# Print the newest working CPython >= 3.11: versioned interpreters on PATH first, then
# pyenv's installed versions (called by full path: pyenv shims of non-global versions fail).
set -u
best=""; bestver=0
consider() {
  local v
  v=$("$1" -c 'import sys, venv; print(sys.version_info[0] * 100 + sys.version_info[1]) if sys.version_info >= (3, 11) else None' 2>/dev/null) || return 0
  case "$v" in ''|None) return 0 ;; esac
  if [ "$v" -gt "$bestver" ]; then best=$1; bestver=$v; fi
}
for n in python3.14 python3.13 python3.12 python3.11 python3; do
  p=$(command -v "$n" 2>/dev/null) && consider "$p"
done
if command -v pyenv >/dev/null 2>&1; then
  for p in "$(pyenv root)"/versions/*/bin/python3; do [ -x "$p" ] && consider "$p"; done
fi
[ -n "$best" ] || { echo "no Python >= 3.11 found" >&2; exit 1; }
echo "$best"
