#!/bin/sh
# The touched test classes three times in a row while another copy of the tree (/tmp/wt14copy: `tar` of this one without .git, bin, obj) rebuilds in a loop.
# Run as root from anywhere: sh docs/reliability/stress.sh > docs/reliability/stress-DATE.txt
REPO=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf /tmp/wt14copy /tmp/t14stress.stop /tmp/t14builds.log && mkdir -p /tmp/wt14copy
(cd "$REPO" && tar --exclude='./.git' --exclude='*/bin' --exclude='*/obj' -cf - .) | (cd /tmp/wt14copy && tar xf -)
# Background: rebuild the other copy in a loop until /tmp/t14stress.stop exists.
( while [ ! -e /tmp/t14stress.stop ]; do dotnet build /tmp/wt14copy --no-incremental -v q > /dev/null 2>&1; echo "build done $(date +%T)" >> /tmp/t14builds.log; done ) &
BUILDER=$!
cd "$REPO"
for i in 1 2 3; do
  echo "=== iteration $i $(date +%T)"
  dotnet test tests/AfXdp.Tests --filter "FullyQualifiedName~HostPolicyTests|FullyQualifiedName~EchoReplyTests|FullyQualifiedName~Net.AllocationTests|FullyQualifiedName~UdpFrameTests" 2>&1 | grep -E "Passed!|Failed!|\[FAIL\]"
  dotnet test tests/AfXdp.KernelTests --filter "FullyQualifiedName~NeverAReflectorTests|FullyQualifiedName~GoneTests|FullyQualifiedName~Xsk.ErrorTests|FullyQualifiedName~KillTests|FullyQualifiedName~ScaleCliTests|FullyQualifiedName~AfXdp.KernelTests.CliTests|FullyQualifiedName~EchoResponderTests|FullyQualifiedName~AsyncReceiveTests|FullyQualifiedName~FaultTests|FullyQualifiedName~SendReceiveTests" 2>&1 | grep -E -A3 "Passed!|Failed!|\[FAIL\]|Error Message" 
done
touch /tmp/t14stress.stop
wait $BUILDER
echo "=== done $(date +%T); builds of the other copy meanwhile: $(wc -l < /tmp/t14builds.log)"
