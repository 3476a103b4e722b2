# The case runner shared by scripts/test-mpi.sh and scripts/test-dropin.sh (sourced, not run):
# each case prints PASS or FAIL with its name; a failure shows the end of the case's output.
# The sourcing script reads $passed and $failed at the end; $out holds its scratch files.
mpirun=(mpirun --allow-run-as-root --oversubscribe)
passed=0
failed=0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; sed 's/^/    /' "$out/log" | tail -20; }

# Runs a case with a time limit (600 s); $1 name, then the command. Leaves output in $out/log.
run() {
    local name=$1; shift
    if timeout 600 "$@" >"$out/log" 2>&1; then pass "$name"; else fail "$name (exit $?)"; fi
}

# Runs a case that must fail with a message; $1 name, $2 text the output must contain.
run_failing() {
    local name=$1 text=$2; shift 2
    timeout 120 "$@" >"$out/log" 2>&1
    local status=$?
    if [ $status -ne 0 ] && [ $status -ne 124 ] && grep -qF -- "$text" "$out/log"; then pass "$name"
    else fail "$name (exit $status; expected a non-zero exit, no hang, and the text: $text)"; fi
}

# Passes if the last case's output contains the text; $1 name, $2 text.
expect() { if grep -qF -- "$2" "$out/log"; then pass "$1"; else fail "$1 (no '$2' in the output)"; fi; }
