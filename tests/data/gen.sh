#!/bin/sh
# Regenerates the fixtures with the openssl CLI (never with certkeeper, so a
# certkeeper bug cannot hide in its own expected values). Run from tests/data.
set -eu
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
  -subj "/CN=certkeeper fixture" -keyout fixture.key -out fixture.pem 2>/dev/null
openssl x509 -in fixture.pem -outform DER -out fixture.der
{
  echo "md5 $(openssl x509 -in fixture.pem -noout -fingerprint -md5 | cut -d= -f2)"
  echo "sha1 $(openssl x509 -in fixture.pem -noout -fingerprint -sha1 | cut -d= -f2)"
  echo "sha256 $(openssl x509 -in fixture.pem -noout -fingerprint -sha256 | cut -d= -f2)"
  echo "serial $(openssl x509 -in fixture.pem -noout -serial | cut -d= -f2)"
} > fixture.expected
openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:fixture-pass -in fixture.key -out fixture-encrypted.key
