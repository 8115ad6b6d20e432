#!/usr/bin/env bash
# Builds the SM2 verifier (OFD seals, SM2 PDF signatures): its libraries resolved from Maven
# Central, its sources compiled with javac, and a launcher the ingest service runs
# (AAP_INGEST_SM2_VERIFIER). Does nothing
# when what it built is current. Prints the launcher's path.
#   build.sh [OUT]           OUT defaults to .local/sm2-verifier; the jars stay in ~/.m2
#   build.sh OUT --jars      the jars copied into OUT/lib: a folder an image can carry
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-${AAP_LOCAL_DIR:-$HERE/../../../.local}/sm2-verifier}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
stamp=$(cat "$HERE/pom.xml" "$0" $(find "$HERE/src" -name '*.java' | sort) | sha256sum | cut -c1-16)
if [[ -x $OUT/verify-sm2 && $(cat "$OUT/stamp" 2>/dev/null) == "$stamp${2:-}" ]]; then
  echo "$OUT/verify-sm2"; exit 0
fi
if [[ ${2:-} == --jars ]]; then
  mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies -DoutputDirectory="$OUT/lib" \
    >"$OUT/maven.log" 2>&1 || { tail -n 20 "$OUT/maven.log" >&2; exit 1; }
  echo "$OUT/lib/*" >"$OUT/classpath.txt"
else
  mvn -q -B -f "$HERE/pom.xml" dependency:build-classpath -Dmdep.outputFile="$OUT/classpath.txt" \
    >"$OUT/maven.log" 2>&1 || { tail -n 20 "$OUT/maven.log" >&2; exit 1; }
fi
rm -rf "$OUT/classes"
javac -encoding UTF-8 -d "$OUT/classes" -cp "$(cat "$OUT/classpath.txt")" \
  $(find "$HERE/src" -name '*.java')
# A small JVM: it runs inside a parsing worker whose address space is capped (RLIMIT_AS), once
# per sealed OFD or SM2-signed PDF. Without these flags the JVM reserves more than the default 1 GiB cap.
cat >"$OUT/verify-sm2" <<LAUNCHER
#!/bin/sh
exec java -Xmx256m -Xss1m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData \\
  -XX:ReservedCodeCacheSize=32m -XX:CompressedClassSpaceSize=64m -XX:MaxMetaspaceSize=128m \\
  -cp "$OUT/classes:$(cat "$OUT/classpath.txt")" aap.sm2.Verify "\$@"
LAUNCHER
chmod 755 "$OUT/verify-sm2"
echo "$stamp${2:-}" >"$OUT/stamp"
echo "$OUT/verify-sm2"
