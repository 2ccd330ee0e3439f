#!/bin/sh
# The touched test classes three times in a row while another copy of the tree rebuilds in a loop (build-loop.sh).
# Run as root from anywhere: sh docs/reliability/stress.sh > docs/raw/stress-DATE.txt
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/docs/reliability/build-loop.sh"
build_loop_start "$REPO" /tmp/wt14copy
cd "$REPO"
for i in 1 2 3; do
  echo "=== iteration $i $(date +%T)"
  dotnet test tests/AfXdp.Tests --filter "FullyQualifiedName~HostPolicyTests|FullyQualifiedName~EchoReplyTests|FullyQualifiedName~Net.AllocationTests|FullyQualifiedName~UdpFrameTests" 2>&1 | grep -E "Passed!|Failed!|\[FAIL\]"
  dotnet test tests/AfXdp.KernelTests --filter "FullyQualifiedName~NeverAReflectorTests|FullyQualifiedName~GoneTests|FullyQualifiedName~Xsk.ErrorTests|FullyQualifiedName~KillTests|FullyQualifiedName~ScaleCliTests|FullyQualifiedName~AfXdp.KernelTests.CliTests|FullyQualifiedName~EchoResponderTests|FullyQualifiedName~AsyncReceiveTests|FullyQualifiedName~FaultTests|FullyQualifiedName~SendReceiveTests" 2>&1 | grep -E -A3 "Passed!|Failed!|\[FAIL\]|Error Message" 
done
build_loop_stop
echo "=== done $(date +%T); builds of the other copy meanwhile: $BUILD_LOOP_BUILDS"
