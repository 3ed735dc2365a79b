# Shared by the loop_target benchmarks. Callers set: target (the loop_target
# binary), target_args (array of its arguments) and tmp (a scratch dir).

# run_case NAME [TRACER-COMMAND...]: starts the target, starts the tracer (if
# any) against it (PID in the command is replaced by the target's pid), waits
# until the tracer says it is attached, runs the loop and prints
# "NAME ns_per_call".
run_case() {
  local name=$1; shift
  # A previous case's output would satisfy the waits below before this
  # target or tracer has written anything.
  rm -f "$tmp/out" "$tmp/tracer.out"
  "$target" "${target_args[@]}" >"$tmp/out" &
  local pid=$!
  until grep -q ready "$tmp/out" 2>/dev/null; do sleep 0.05; done
  local tracer=""
  if (($#)); then
    "${@//PID/$pid}" >"$tmp/tracer.out" 2>&1 &
    tracer=$!
    # gridprobe prints "attached", bpftrace "Attaching N probes..."
    until grep -qE "attached|Attaching" "$tmp/tracer.out" 2>/dev/null; do sleep 0.05; done
    sleep 1
  fi
  kill -USR1 "$pid"
  wait "$pid"
  if [[ -n $tracer ]]; then kill -INT "$tracer" 2>/dev/null || true; wait "$tracer" || true; fi
  echo "$name $(awk '/ns_per_call/ {print $2}' "$tmp/out")"
}
