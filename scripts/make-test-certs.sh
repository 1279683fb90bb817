#!/usr/bin/env bash
# Make TEST certificates for secure ICCP (TLS) into DIR (default: build/tls-certs), with openssl:
#
#   ca.pem ca.key               the test CA ("FreeTase2 Test CA")
#   server.pem server.key       the server: CN tase2-server, SAN localhost and 127.0.0.1
#   client.pem client.key       a client: CN iccp-client-1 (the example bilateral table binds it)
#   client2.pem client2.key     another valid client: CN iccp-client-2
#   expired.pem expired.key     a client whose certificate expired (2020-01-01 .. 2021-01-01)
#   revoked.pem revoked.key     a client whose certificate crl.pem revokes
#   crl.pem                     the CA's CRL (valid 30 days)
#   other-ca.pem other-ca.key   another CA nobody trusts
#   rogue.pem rogue.key         a client (and server) certificate from other-ca
#   server-ec.pem server-ec.key the server with a P-256 key (for the ECDHE_ECDSA suites)
#
# Every key here is for tests only: never use them on a real link. RSA 2048 keys, SHA-256.
set -euo pipefail
DIR=${1:-build/tls-certs}
mkdir -p "$DIR"
cd "$DIR"
rm -rf ca-db other-db
days=3650

mkdb() { # mkdb DIR: an openssl ca database
    mkdir -p "$1/new"
    : > "$1/index.txt"
    echo 1000 > "$1/serial"
    echo 1000 > "$1/crlnumber"
}

cat > openssl.cnf <<CNF
[ca]
default_ca = test_ca
[test_ca]
dir = ./ca-db
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
policy = anything
unique_subject = no
preserve = yes
copy_extensions = copy
default_crl_days = 30
[other_ca]
dir = ./other-db
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
policy = anything
unique_subject = no
preserve = yes
copy_extensions = copy
default_crl_days = 30
[anything]
commonName = supplied
organizationName = optional
countryName = optional
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth, serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = keyid
CNF

ca() { # ca NAME SUBJECT
    openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" \
        -days $days -subj "$2" -config openssl.cnf -extensions v3_ca 2>/dev/null
}

leaf() { # leaf NAME SUBJECT EXT SECTION [KEYALG] [STARTDATE ENDDATE]
    local name=$1 subj=$2 ext=$3 section=$4 alg=${5:-rsa:2048}
    if [ "$alg" = ec ]; then
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$name.key" \
            -out "$name.csr" -subj "$subj" -config openssl.cnf 2>/dev/null
    else
        openssl req -new -newkey "$alg" -nodes -keyout "$name.key" -out "$name.csr" \
            -subj "$subj" -config openssl.cnf 2>/dev/null
    fi
    local dates=(-days $days)
    if [ $# -ge 7 ]; then dates=(-startdate "$6" -enddate "$7"); fi
    local cert=ca.pem key=ca.key
    if [ "$section" = other_ca ]; then cert=other-ca.pem key=other-ca.key; fi
    openssl ca -batch -config openssl.cnf -name "$section" -cert "$cert" -keyfile "$key" \
        -extensions "$ext" "${dates[@]}" -in "$name.csr" -out "$name.pem" -notext 2>/dev/null
    rm -f "$name.csr"
}

mkdb ca-db
mkdb other-db
ca ca "/O=FreeTase2 Test/CN=FreeTase2 Test CA"
ca other-ca "/O=Somebody Else/CN=Untrusted Test CA"
leaf server "/O=FreeTase2 Test/CN=tase2-server" server test_ca
leaf server-ec "/O=FreeTase2 Test/CN=tase2-server" server test_ca ec
leaf client "/O=Utility A/CN=iccp-client-1" client test_ca
leaf client2 "/O=Utility B/CN=iccp-client-2" client test_ca
leaf expired "/O=Utility A/CN=iccp-expired" client test_ca rsa:2048 20200101000000Z 20210101000000Z
leaf revoked "/O=Utility A/CN=iccp-revoked" client test_ca
leaf rogue "/O=Somebody Else/CN=iccp-client-1" client other_ca
openssl ca -batch -config openssl.cnf -name test_ca -cert ca.pem -keyfile ca.key \
    -revoke revoked.pem 2>/dev/null
openssl ca -batch -config openssl.cnf -name test_ca -cert ca.pem -keyfile ca.key \
    -gencrl -out crl.pem 2>/dev/null
# An empty CRL of the other CA is not needed: nobody trusts it.
chmod 600 ./*.key
echo "test certificates in $DIR (CA: ca.pem, CRL: crl.pem)"
