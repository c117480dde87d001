#!/usr/bin/env bash
# The workflow gates: zizmor (offline, auditor persona), check-jsonschema (GitHub's workflow and action
# schemas, vendored in check-jsonschema), the SHA pins of every `uses:`, and the README's action table;
# for the repository itself also the IAM policies: parliament and policy_sentry (scripts/iam_lint.py).
#
#   scripts/gates.sh                                  the repository's workflows and action.yml
#   scripts/gates.sh WORKFLOW_DIR ACTION_FILE...      other files (the tests run the known-bad fixture)
#   PINS=FILE scripts/gates.sh ...                    check the pins against FILE instead of scripts/pins.txt
#                                                     (a repository `prenv init` wrote pins prenv's release)
#
# Runs every gate, prints what each one found, and exits 1 when any of them failed. Needs no network.
# Output is never coloured (zizmor colours it whenever CI=true), so logs and the tests read plain text.
# Tools: zizmor and check-jsonschema from the bin folder of $PYTHON (default: python3), else from PATH.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
bindir="$(dirname "$("$python" -c 'import sys; print(sys.executable)')")"
tool() {
  if [ -x "$bindir/$1" ]; then echo "$bindir/$1"; else command -v "$1" || echo "$1"; fi
}
zizmor="$(tool zizmor)"
check_jsonschema="$(tool check-jsonschema)"

if [ $# -eq 0 ]; then
  cd "$root"
  workflows=".github/workflows"
  actions=("action.yml")
  repository=true
else
  workflows="$1"
  shift
  actions=("$@")
  repository=false
fi
mapfile -t workflow_files < <(find "$workflows" -maxdepth 1 -type f \( -name '*.yml' -o -name '*.yaml' \) | sort)

failed=()
gate() { # gate NAME COMMAND...: run one gate, remember its failure
  local name="$1"
  shift
  echo "== $name"
  if "$@"; then
    echo "-- $name: ok"
  else
    echo "-- $name: FAILED"
    failed+=("$name")
  fi
}

# The zizmor config lives beside this repository's workflows; it is used for any input, so the known-bad
# fixture is judged by the same rules.
gate zizmor env -u GH_TOKEN -u GITHUB_TOKEN -u ZIZMOR_GITHUB_TOKEN \
  "$zizmor" --offline --no-progress --color never --persona auditor --config "$root/.github/zizmor.yml" \
  "${workflow_files[@]}" "${actions[@]}"
gate "check-jsonschema (workflows)" "$check_jsonschema" --color never --builtin-schema vendor.github-workflows "${workflow_files[@]}"
gate "check-jsonschema (actions)" "$check_jsonschema" --color never --builtin-schema vendor.github-actions "${actions[@]}"
pins=()
if [ -n "${PINS:-}" ]; then pins=(--pins "$PINS"); fi
gate "pinned actions" "$python" "$root/scripts/check_pins.py" "${pins[@]}" "${workflow_files[@]}" "${actions[@]}"
if [ "$repository" = true ]; then
  gate "README action table" "$python" "$root/scripts/action_docs.py" --check
  gate "IAM policies (parliament, policy_sentry)" "$python" "$root/scripts/iam_lint.py"
fi

if [ ${#failed[@]} -gt 0 ]; then
  printf 'gates: FAILED: %s\n' "$(IFS=,; echo "${failed[*]}")"
  exit 1
fi
echo "gates: all passed"
