#!/usr/bin/env bash
# Issue 5's workloads on the GPU machine in one call (bin/ built here and
# carried): every built-in shaped workload, sweeps over rate and concurrency
# with HTML reports, the tutorial's batch sweep, and the dashboard on an
# open-loop workload. Writes log.txt and the reports under $OUT.
set -o pipefail; R=$PWD
{
(cd engine && timeout 120 ../bin/engine.test -test.run 'CUDA|Pending|RunLoop' 2>&1 | tail -1)
(cd kernels/cuda && timeout 90 $R/bin/cuda.test 2>&1 | tail -1)
for w in chat bursty clients long-context shared-prefix; do
  echo "### run $w"; timeout 120 bin/benchtop run --quiet --workload $w --slo ttft=100ms,tpot=20ms 2>&1 | sed -n '5,22p'
done
echo "### run ramp"; timeout 120 bin/benchtop run --quiet --workload ramp 2>&1 | grep -E "Requests|Output tokens/s|lag|TTFT "
echo "### sweep rate"; timeout 200 bin/benchtop sweep --quiet --over rate --values 25,50,100,200,400,800 --workload chat --requests 400 --slo ttft=100ms,tpot=20ms --report $OUT/sweep_rate.html 2>&1 | tail -45
echo "### sweep concurrency"; timeout 200 bin/benchtop sweep --quiet --over concurrency --values 1,4,16,64,256 --workload chat --requests 300 --report $OUT/sweep_conc.html 2>&1 | tail -12
echo "### sweep batch"; timeout 120 bin/benchtop sweep --quiet 2>&1 | tail -11
echo "### dash chat"; (sleep 10; printf q) | timeout 60 script -qfc "bin/benchtop dash --workload chat --arrival poisson:200 --duration 8s 2>$OUT/dash.txt" /dev/null > /dev/null 2>&1; cat $OUT/dash.txt
} 2>&1 | tee $OUT/log.txt
