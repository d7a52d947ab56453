#include "issuer/signing/provisioner_extension.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include <memory>

namespace keystep::signing {
namespace {

void append_length(std::vector<unsigned char>& out, std::size_t len) {
  if (len < 0x80) {
    out.push_back(static_cast<unsigned char>(len));
    return;
  }
  std::vector<unsigned char> bytes;
  while (len > 0) {
    bytes.insert(bytes.begin(), static_cast<unsigned char>(len & 0xff));
    len >>= 8;
  }
  out.push_back(static_cast<unsigned char>(0x80 | bytes.size()));
  out.insert(out.end(), bytes.begin(), bytes.end());
}

void append_tlv(std::vector<unsigned char>& out, unsigned char tag, const std::vector<unsigned char>& value) {
  out.push_back(tag);
  append_length(out, value.size());
  out.insert(out.end(), value.begin(), value.end());
}

// read_tlv reads one DER element of `tag` at p, advancing p.
bool read_tlv(const unsigned char*& p, const unsigned char* end, unsigned char tag, std::string& value) {
  if (end - p < 2 || *p != tag) return false;
  ++p;
  std::size_t len = *p++;
  if (len & 0x80) {
    std::size_t n = len & 0x7f;
    if (n == 0 || n > 3 || static_cast<std::size_t>(end - p) < n) return false;
    len = 0;
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | *p++;
  }
  if (static_cast<std::size_t>(end - p) < len) return false;
  value.assign(reinterpret_cast<const char*>(p), len);
  p += len;
  return true;
}

}  // namespace

std::vector<unsigned char> encode_provisioner_extension(const ProvisionerRef& ref) {
  std::vector<unsigned char> body;
  append_tlv(body, 0x02, {static_cast<unsigned char>(static_cast<int>(ref.type))});
  append_tlv(body, 0x04, std::vector<unsigned char>(ref.name.begin(), ref.name.end()));
  append_tlv(body, 0x04, std::vector<unsigned char>(ref.credential_id.begin(), ref.credential_id.end()));
  std::vector<unsigned char> out;
  append_tlv(out, 0x30, body);
  return out;
}

std::optional<ProvisionerRef> decode_provisioner_extension(const X509* cert) {
  std::unique_ptr<ASN1_OBJECT, decltype(&ASN1_OBJECT_free)> obj(OBJ_txt2obj(kProvisionerOid, 1), ASN1_OBJECT_free);
  int idx = X509_get_ext_by_OBJ(cert, obj.get(), -1);
  if (idx < 0) return std::nullopt;
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(cert, idx));
  const unsigned char* p = ASN1_STRING_get0_data(data);
  const unsigned char* end = p + ASN1_STRING_length(data);
  std::string seq, type, name, cred;
  if (!read_tlv(p, end, 0x30, seq)) return std::nullopt;
  const auto* q = reinterpret_cast<const unsigned char*>(seq.data());
  const unsigned char* qend = q + seq.size();
  if (!read_tlv(q, qend, 0x02, type) || type.size() != 1 || !read_tlv(q, qend, 0x04, name) ||
      !read_tlv(q, qend, 0x04, cred)) {
    return std::nullopt;
  }
  return ProvisionerRef{static_cast<ProvisionerType>(static_cast<unsigned char>(type[0])), name, cred};
}

}  // namespace keystep::signing
