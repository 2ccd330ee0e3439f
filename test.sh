#!/usr/bin/env bash
# The README's test command. On Debian, as root: installs the packages the tests need when they are
# missing (the table src/**/ExternalTools.txt: program, package, what for), runs every test (arguments
# go to `dotnet test`, e.g. --filter), and ends with one line "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

table=$(find src -name ExternalTools.txt -not -path '*/bin/*' -not -path '*/obj/*' | head -n 1)
[ -n "$table" ] || { echo "test.sh: the table ExternalTools.txt is missing under src/" >&2; exit 2; }
missing=()
for package in $(awk '!/^#/ && NF >= 2 { print $2 }' "$table" | sort -u); do
	dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "test.sh: installing ${missing[*]}" >&2
	[ "$(id -u)" = 0 ] || { echo "test.sh: run as root (the kernel tests need it, and apt-get installs ${missing[*]})" >&2; exit 2; }
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test "$@" 2>&1 | tee "$log" || status=$?
# One closing line, summed over the test projects' "Passed!/Failed!" lines.
awk '/(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { if ($i == "Passed:") p += $(i+1); if ($i == "Failed:") f += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
