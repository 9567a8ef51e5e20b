#!/usr/bin/env bash
# Regenerates the vendored Strimzi CRDs from Maven Central, the way Strimzi's own build makes the
# install/cluster-operator/04x-Crd-*.yaml files of its release (api/pom.xml, execution
# generate-crd-co-install-v1): io.strimzi:crd-generator run over the annotated model classes of io.strimzi:api.
# Usage: bash deploy/k8s/strimzi-crds/regenerate.sh [version]   (needs mvn and a Java 21+ runtime)
set -euo pipefail
VERSION="${1:-1.2.0}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { printf '[strimzi-crds] error: %s\n' "$*" >&2; exit 1; }
command -v mvn >/dev/null || die "mvn not found: apt-get install maven"
JAVA="${JAVA:-}"
if [ -z "$JAVA" ]; then
  for j in /usr/lib/jvm/*/bin/java; do
    v="$("$j" -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = //p')"
    if [ "${v:-0}" -ge 21 ] 2>/dev/null; then JAVA="$j"; break; fi
  done
fi
[ -n "$JAVA" ] || die "no Java 21+ under /usr/lib/jvm (the generator is built for Java 21): set JAVA=/path/to/java"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>strimzi-crds</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>io.strimzi</groupId><artifactId>api</artifactId><version>$VERSION</version></dependency>
    <dependency><groupId>io.strimzi</groupId><artifactId>crd-generator</artifactId><version>$VERSION</version></dependency>
  </dependencies>
</project>
POM
(cd "$work" && mvn -q dependency:build-classpath -Dmdep.outputFile=cp.txt) || die "mvn could not resolve io.strimzi:api/crd-generator:$VERSION"
"$JAVA" -cp "$(cat "$work/cp.txt")" io.strimzi.crdgenerator.CrdGenerator \
  --label app:strimzi --label strimzi.io/crd-install:true --target-kube 1.16+ \
  --crd-api-version v1 --api-versions v1 --storage-version v1 --yaml \
  "io.strimzi.api.kafka.model.kafka.Kafka=$HERE/040-Crd-kafka.yaml" \
  "io.strimzi.api.kafka.model.topic.KafkaTopic=$HERE/043-Crd-kafkatopic.yaml" \
  "io.strimzi.api.kafka.model.nodepool.KafkaNodePool=$HERE/045-Crd-kafkanodepool.yaml"
echo "$VERSION" >"$HERE/VERSION"
(cd "$HERE" && sha256sum 04*-Crd-*.yaml VERSION >SHA256SUMS)
printf '[strimzi-crds] Strimzi %s CRDs written to %s\n' "$VERSION" "$HERE"
