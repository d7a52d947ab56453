#!/usr/bin/python3
"""Writes vectors.h: JOSE test vectors made independently of Keystep.

Uses only Debian 12's python3-cryptography (38.x) and the standard library,
so the C++ implementation is checked against a second implementation:
  * JWKs with their RFC 7638 thumbprints, and compact JWS tokens (ES256,
    ES384, ES512, EdDSA, RS256, PS256) signed over the signing input;
  * PBES2 JWEs (RFC 7518 §4.8) in each alg/enc combination decrypt_pbes2
    accepts, including the old step layout (A128GCM, p2c 100000, no cty).

Keys and nonces are random, so each run writes different (equally valid)
vectors. Run from anywhere:  /usr/bin/python3 make_vectors.py
"""

import base64
import hashlib
import json
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PASSWORD = "password-for-tests"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors.h")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(value: int, size: int = 0) -> str:
    size = size or max(1, (value.bit_length() + 7) // 8)
    return b64(value.to_bytes(size, "big"))


def compact_json(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True)


def thumbprint(jwk: dict) -> str:
    required = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}
    members = {k: jwk[k] for k in required[jwk["kty"]]}
    return b64(hashlib.sha256(compact_json(members).encode()).digest())


def finish(jwk: dict, alg: str) -> dict:
    jwk.update(alg=alg, use="sig", kid=thumbprint(jwk))
    return jwk


def ec_jwk(curve, crv: str, size: int, alg: str, key=None) -> tuple:
    key = key or ec.generate_private_key(curve)
    pub = key.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": crv, "x": uint(pub.x, size), "y": uint(pub.y, size),
           "d": uint(key.private_numbers().private_value, size)}
    return key, finish(jwk, alg)


def p256_key_with_leading_zeros():
    # d < 2^248 and x < 2^248: both need their leading zero byte kept.
    d = int.from_bytes(os.urandom(31), "big") | 1
    while True:
        key = ec.derive_private_key(d, ec.SECP256R1())
        if key.public_key().public_numbers().x < 2 ** 248:
            return key
        d += 1


def token(header: dict, payload: dict, sign) -> str:
    signing_input = b64(compact_json(header).encode()) + "." + b64(compact_json(payload).encode())
    return signing_input + "." + b64(sign(signing_input.encode()))


def ecdsa_signer(key, hash_alg, size):
    def sign(data):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hash_alg)))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return sign


def public(jwk: dict) -> dict:
    return {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y", "n", "e", "alg", "use", "kid")}


def pbes2(plaintext: bytes, alg: str, enc: str, p2c: int, cty) -> str:
    hash_alg, kek_size = {"PBES2-HS256+A128KW": (hashes.SHA256(), 16), "PBES2-HS384+A192KW": (hashes.SHA384(), 24),
                          "PBES2-HS512+A256KW": (hashes.SHA512(), 32)}[alg]
    cek_size = {"A128GCM": 16, "A192GCM": 24, "A256GCM": 32}[enc]
    p2s = os.urandom(16)
    header = {"alg": alg, "enc": enc, "p2c": p2c, "p2s": b64(p2s)}
    if cty:
        header["cty"] = cty
    header_b64 = b64(compact_json(header).encode())
    kek = PBKDF2HMAC(hash_alg, kek_size, alg.encode() + b"\x00" + p2s, p2c).derive(PASSWORD.encode())
    cek = os.urandom(cek_size)
    iv = os.urandom(12)
    sealed = AESGCM(cek).encrypt(iv, plaintext, header_b64.encode())
    parts = [header_b64, b64(aes_key_wrap(kek, cek)), b64(iv), b64(sealed[:-16]), b64(sealed[-16:])]
    return ".".join(parts)


def main():
    payload = {"aud": "https://ca.example.com:9000/1.0/sign", "exp": 1767225900, "iat": 1767225600,
               "iss": "admin@example.com", "jti": os.urandom(32).hex(), "nbf": 1767225600,
               "sans": ["foo.example.com"], "sub": "foo.example.com"}
    tokens = []

    p256, p256_jwk = ec_jwk(ec.SECP256R1(), "P-256", 32, "ES256", p256_key_with_leading_zeros())
    header = {"alg": "ES256", "kid": p256_jwk["kid"], "typ": "JWT"}
    tokens.append(("ES256", p256_jwk, token(header, payload, ecdsa_signer(p256, hashes.SHA256(), 32))))
    for curve, crv, size, alg, hash_alg in ((ec.SECP384R1(), "P-384", 48, "ES384", hashes.SHA384()),
                                            (ec.SECP521R1(), "P-521", 66, "ES512", hashes.SHA512())):
        key, jwk = ec_jwk(curve, crv, size, alg)
        header = {"alg": alg, "kid": jwk["kid"], "typ": "JWT"}
        tokens.append((alg, public(jwk), token(header, payload, ecdsa_signer(key, hash_alg, size))))

    ed = ed25519.Ed25519PrivateKey.generate()
    ed_jwk = finish({"kty": "OKP", "crv": "Ed25519",
                     "x": b64(ed.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))}, "EdDSA")
    tokens.append(("EdDSA", ed_jwk, token({"alg": "EdDSA", "kid": ed_jwk["kid"], "typ": "JWT"}, payload, ed.sign)))

    rsa_key = rsa.generate_private_key(65537, 2048)
    priv = rsa_key.private_numbers()
    rsa_jwk = finish({"kty": "RSA", "n": uint(priv.public_numbers.n), "e": uint(priv.public_numbers.e),
                      "d": uint(priv.d), "p": uint(priv.p), "q": uint(priv.q), "dp": uint(priv.dmp1),
                      "dq": uint(priv.dmq1), "qi": uint(priv.iqmp)}, "RS256")
    rs256 = token({"alg": "RS256", "kid": rsa_jwk["kid"], "typ": "JWT"}, payload,
                  lambda d: rsa_key.sign(d, padding.PKCS1v15(), hashes.SHA256()))
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    ps256 = token({"alg": "PS256", "kid": rsa_jwk["kid"], "typ": "JWT"}, payload,
                  lambda d: rsa_key.sign(d, pss, hashes.SHA256()))
    tokens.append(("RS256", rsa_jwk, rs256))
    tokens.append(("PS256", rsa_jwk, ps256))

    plaintext = compact_json(p256_jwk)
    jwes = [
        ("PBES2-HS256+A128KW", "A256GCM", 1000, "jwk+json"),
        ("PBES2-HS256+A128KW", "A128GCM", 100000, None),  # old step keys
        ("PBES2-HS384+A192KW", "A192GCM", 1000, "jwk+json"),
        ("PBES2-HS512+A256KW", "A256GCM", 1000, "jwk+json"),
    ]

    lines = [
        "#pragma once",
        "// Generated by make_vectors.py (python3-cryptography); do not edit.",
        "// Independent JOSE vectors: keys, tokens and PBES2 JWEs for *_test.cc.",
        "",
        "#include <string_view>",
        "",
        "namespace keystep::jose::testdata {",
        "",
        "struct TokenVector {",
        "  std::string_view alg;",
        "  std::string_view jwk;  // JSON; private for ES256 and RSA",
        "  std::string_view thumbprint;",
        "  std::string_view token;",
        "};",
        "",
        "struct JweVector {",
        "  std::string_view alg;",
        "  std::string_view enc;",
        "  std::string_view compact;",
        "};",
        "",
        f'inline constexpr std::string_view kJwePassword = "{PASSWORD}";',
        f'inline constexpr std::string_view kJwePlaintext = R"json({plaintext})json";',
        f'inline constexpr std::string_view kTokenPayload = R"json({compact_json(payload)})json";',
        "",
        "inline constexpr TokenVector kTokens[] = {",
    ]
    for alg, jwk, tok in tokens:
        lines.append(f'    {{"{alg}",\n     R"json({compact_json(jwk)})json",\n     "{jwk["kid"]}",\n     "{tok}"}},')
    lines += ["};", "", "inline constexpr JweVector kJwes[] = {"]
    for alg, enc, p2c, cty in jwes:
        lines.append(f'    {{"{alg}", "{enc}",\n     "{pbes2(plaintext.encode(), alg, enc, p2c, cty)}"}},')
    lines += ["};", "", "}  // namespace keystep::jose::testdata", ""]
    with open(OUT, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
