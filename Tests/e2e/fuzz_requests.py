"""Request generation for the live-server fuzzer (test_fuzz_live.py): valid seed requests and their mutations.

`seed(state, rng)` builds a valid S3 or IAM/STS Query API request (a `Req`, not yet signed) from what the
server handed out earlier (`State`: upload ids, version ids, continuation tokens, device serials, STS
sessions); `mutate(req, rng, state)` applies one hostile change in place: a header value (huge, negative,
2^63, 2^64, absurd dates, empty, non-ASCII, %00, very long), a query name or value (also valueless), the
path or key bytes, the XML, aws-chunked or form body, the method, or -- after signing -- Date, X-Amz-Date,
Authorization or presign parameters. Everything is drawn from `rng`, so a seed replays a run.
"""
import base64
import collections
import hashlib
import re
import zlib
from urllib.parse import quote

from conftest import ACCESS_KEY, SECRET_KEY

N = [2 ** 63, 2 ** 64]
NUMBERS = ["0", "-1", "1", "-0", "+1", "007", "2147483647", "2147483648", "-2147483649", "4294967296", "9" * 40,
           str(N[0] - 1), str(N[0]), str(-N[0]), str(-N[0] - 1), str(N[1] - 1), str(N[1]), "1e3", "0x10", " 1",
           "1.5", "NaN", "١٢"]
DATES = ["Thu, 01 Jan 300000000000 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "Sat, 01 Jan 0000 00:00:00 GMT",
         "Thu, 01 Jan -1 00:00:00 GMT", f"Thu, 01 Jan {N[0]} 00:00:00 GMT", f"Thu, 01 Jan {N[1]} 00:00:00 GMT",
         f"Thu, 01 Jan {N[0] - 1} 00:00:00 GMT", f"Thu, {N[0]} Jan 2024 00:00:00 GMT", "Thu, 01 Jan 1970 00:00:00 GMT",
         f"Thu, 01 Jan 2024 {N[0]}:00:00 GMT", "Thu, 32 Feb 2024 25:61:61 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
         "Sun Nov  6 08:49:37 1994", "Thu, 01 Jan 2024 00:00:00 +9999999999", "20240101T000000Z", "99999999T999999Z",
         "300000000000101T000000Z", "00000000T000000Z", f"{N[1]}0101T000000Z", "2024-01-01T00:00:00Z",
         "-9999-01-01T00:00:00.000Z"]
RANGES = ["bytes=0-", "bytes=-0", "bytes=-1", f"bytes=-{N[0]}", f"bytes={N[0] - 1}-", f"bytes=0-{N[1]}",
          f"bytes={N[0]}-{N[1]}", "bytes=5-1", "bytes=--1", "bytes=0-0,1-1", "bytes=", "bytes=-", "items=0-1",
          f"bytes=-{N[1] - 1}", f"bytes=0-{N[0] - 1}", f"bytes=-{N[0] - 1}", "bytes= 1 - 2 "]
TEXT = ["", " ", "%00", "a%00b", "%", "%zz", "%C3%28", "%FF", "é", "日本語", "\U0001F4A3", "\u202e", "\ufeff",
        "ä" * 300, "..", "../..", "/", "//", "?", "&", "=", "#", "+", '"', "'", "<x>", "&amp;", "null", "*", "\\",
        "true", "Enabled", "COPY", "REPLACE", "url", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "aws-chunked",
        "UNSIGNED-PAYLOAD", "100-continue", "CRC32", "SHA256", "ENABLED", "arn:aws:iam::000000000000:mfa/x 123456"]
HEADERS = ("Range If-Modified-Since If-Unmodified-Since If-Match If-None-Match Content-MD5 Content-Type Expires "
           "Content-Encoding Content-Language Content-Disposition Cache-Control x-amz-meta-a x-amz-checksum-crc32 "
           "x-amz-checksum-crc32c x-amz-checksum-crc64nvme x-amz-checksum-sha1 x-amz-checksum-sha256 x-amz-trailer "
           "x-amz-checksum-mode x-amz-checksum-algorithm x-amz-sdk-checksum-algorithm x-amz-content-sha256 "
           "x-amz-decoded-content-length x-amz-copy-source x-amz-copy-source-range x-amz-copy-source-if-match "
           "x-amz-copy-source-if-none-match x-amz-copy-source-if-modified-since x-amz-metadata-directive x-amz-mfa "
           "x-amz-copy-source-if-unmodified-since x-amz-acl x-amz-storage-class x-amz-tagging Date Expect Host "
           "x-amz-server-side-encryption x-amz-expected-bucket-owner x-amz-security-token Accept-Encoding").split()
QUERY = ("versionId uploadId partNumber max-keys max-parts max-uploads prefix delimiter marker key-marker "
         "version-id-marker upload-id-marker part-number-marker continuation-token start-after encoding-type "
         "fetch-owner list-type response-content-type response-expires response-content-language acl location "
         "response-cache-control response-content-disposition response-content-encoding versions versioning "
         "uploads delete tagging X-Amz-Signature X-Amz-Expires Signature x-id").split() + [""]
FORM = ("MaxItems Marker DurationSeconds UserName Path SerialNumber TokenCode Status AuthenticationCode1 "
        "AuthenticationCode2 VirtualMFADeviceName AssignmentStatus AccessKeyId Tags.member.1.Key "
        "Tags.member.1.Value Tags.member.2.Key TagKeys.member.1 Version").split()
ACTIONS = ("ListUsers CreateUser GetUser DeleteUser CreateAccessKey ListAccessKeys UpdateAccessKey DeleteAccessKey GetAccessKeyLastUsed "
           "CreateVirtualMFADevice EnableMFADevice ResyncMFADevice DeactivateMFADevice DeleteVirtualMFADevice "
           "ListMFADevices ListVirtualMFADevices TagMFADevice UntagMFADevice ListMFADeviceTags GetAccountSummary "
           "GenerateCredentialReport GetCredentialReport GetSessionToken GetCallerIdentity").split()
PRESIGN = [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Date", "20240101T000000Z"), ("X-Amz-Expires", "9"),
           ("X-Amz-Credential", f"{ACCESS_KEY}/20240101/us-east-1/s3/aws4_request"), ("X-Amz-SignedHeaders", "host"),
           ("X-Amz-Signature", "0" * 64), ("AWSAccessKeyId", ACCESS_KEY), ("Expires", str(N[0])), ("Signature", "x")]
OLD = "Sat, 01 Jan 2000 00:00:00 GMT"


def nasty(rng):
    """One hostile header, query or form value."""
    pick = rng.random()
    if pick < 0.85:
        return rng.choice(NUMBERS if pick < 0.25 else DATES if pick < 0.45 else RANGES if pick < 0.55 else TEXT)
    if pick < 0.93: return rng.choice("aZ9%-_.~") * rng.choice([64, 1025, 4097, 9000])
    return "".join(chr(rng.randrange(32, 0x2FF)) for _ in range(rng.randrange(1, 40)))


class Req:
    """An unsigned request: S3 (bucket, key, query, headers, body) or a Query API form."""

    def __init__(self, method, bucket=None, key=None, query=(), headers=None, body=b"", form=None, md5=False):
        self.method, self.bucket, self.key, self.query = method, bucket, key, list(query)
        self.headers, self.body, self.form, self.md5 = dict(headers or {}), body, form, md5
        self.post, self.raw_path, self.form_raw = {}, None, None  # post: set after signing (None deletes)
        self.creds = (ACCESS_KEY, SECRET_KEY, None)  # or an STS session's
        self.vhost = None  # a bucket named by the Host header (the server runs with --domain fuzz.test)

    def target(self):
        path = self.raw_path
        if path is None and self.vhost is not None: path = "/" + quote(self.key or "", safe="/~")
        if path is None:
            path = "/" if self.form is not None or self.bucket is None else "/" + quote(self.bucket, safe="") + (
                "" if self.key is None else "/" + quote(self.key, safe="/~"))
        q = "&".join(quote(n, safe="-_.~") + ("" if v is None else "=" + quote(v, safe="-_.~")) for n, v in self.query)
        return path + ("?" + q if q else "")


class State:
    """What one worker knows: its buckets and keys, and the ids the server handed out."""

    def __init__(self, tag):
        self.buckets, self.extra = [tag + "-v", tag + "-p"], tag + "-x"
        self.keys = ["k", "dir/a", "dir/b/c", "ünï code", "a+b", "sp ace", "x" * 300]
        self.pool = collections.defaultdict(lambda: collections.deque(["A" * 32], 40))
        self.uploads = collections.deque([(self.buckets[0], "k", "A" * 32)], 20)  # (bucket, key, upload id)
        self.sessions = collections.deque([], 5)  # (access key, secret, session token) from GetSessionToken
        self.parts = collections.defaultdict(dict)  # upload id -> {part number: ETag}

    def any(self, name, rng): return rng.choice(self.pool[name])

    def harvest(self, req, status, headers, body):
        if status >= 300: return
        if headers.get("x-amz-version-id"): self.pool["VersionId"].append(headers["x-amz-version-id"])
        for name, value in re.findall(rb"<(UploadId|NextContinuationToken|NextMarker|NextKeyMarker|VersionId|NextVer"
                                      rb"sionIdMarker|SerialNumber|Marker|UserName|AccessKeyId)>([^<]{1,300})</",
                                      body[:100000]):
            self.pool[name.decode()].append(value.decode(errors="replace"))
        q, upload = dict(req.query), re.search(rb"<UploadId>([^<]+)</UploadId>", body)
        if req.method == "PUT" and re.fullmatch(r"[0-9]{1,5}", q.get("partNumber") or "") and "ETag" in headers:
            self.parts[q.get("uploadId")][q["partNumber"]] = headers["ETag"]
        if req.method == "POST" and "uploads" in q and upload and req.bucket and req.key:
            self.uploads.append((req.bucket, req.key, upload[1].decode()))
        session = [re.search(rb"<%s>([^<]+)</" % name, body)
                   for name in (b"AccessKeyId", b"SecretAccessKey", b"SessionToken")]
        if all(session): self.sessions.append(tuple(m[1].decode() for m in session))


def seed(st, rng):
    """A valid request of a random kind, one in ten signed with STS session credentials."""
    req = s3_or_query_seed(st, rng)
    if st.sessions and rng.random() < 0.1: req.creds = rng.choice(st.sessions)
    return req


def s3_or_query_seed(st, rng):
    b, k, pick, upload = rng.choice(st.buckets), rng.choice(st.keys), rng.randrange(23), st.any("UploadId", rng)
    if 11 <= pick <= 14 or pick == 20: b, k, upload = rng.choice(st.uploads)  # the upload's own bucket and key
    vid = [("versionId", st.any("VersionId", rng))] if rng.random() < 0.5 else []
    some = lambda items, p=0.3: [item for item in items if rng.random() < p]  # noqa: E731
    if pick <= 2:
        body = rng.randbytes(rng.choice([0, 1, 100, 5000, 5000, 70000 if rng.random() < 0.2 else 10]))
        h = {"Content-Type": "text/plain", "x-amz-meta-color": "blue", "x-amz-meta-n": "1"}
        if rng.random() < 0.3: h["x-amz-checksum-sha256"] = base64.b64encode(hashlib.sha256(body).digest()).decode()
        if rng.random() < 0.25:  # aws-chunked, as boto3 sends over HTTPS
            crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big"))
            h |= {"Content-Encoding": "aws-chunked", "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                  "x-amz-decoded-content-length": str(len(body)), "x-amz-trailer": "x-amz-checksum-crc32"}
            body = b"%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n" % (len(body), body, crc)
        return Req("PUT", b, k, headers=h, body=body, md5=rng.random() < 0.5)
    if pick <= 5:
        h = dict(some([("Range", "bytes=0-9"), ("If-Modified-Since", OLD), ("If-None-Match", '"abc"'),
                       ("x-amz-checksum-mode", "ENABLED")]))
        q = vid + some([("response-content-type", "text/x"), ("response-expires", DATES[1]),
                        ("response-content-disposition", "inline"), ("partNumber", "1")], 0.2)
        return Req(rng.choice(["GET", "GET", "HEAD"]), b, k, q, h)
    if pick == 6: return Req("DELETE", b, k, vid)
    if pick <= 9:
        q = rng.choice([[("list-type", "2")], [("versions", None)], []])
        q += [("max-keys", rng.choice(["1", "2", "50"]))] if rng.random() < 0.7 else []
        return Req("GET", b, None, q + some([
            ("prefix", "dir/"), ("delimiter", "/"), ("encoding-type", "url"), ("start-after", "a"),
            ("continuation-token", st.any("NextContinuationToken", rng)), ("fetch-owner", "true"),
            ("marker", st.any("NextMarker", rng)), ("key-marker", st.any("NextKeyMarker", rng)),
            ("version-id-marker", st.any("NextVersionIdMarker", rng))]))
    if pick == 10:
        return Req("POST", b, k, [("uploads", None)], dict([("x-amz-meta-m", "1"), ("Content-Type", "a/b")]
                                                           + some([("x-amz-checksum-algorithm", "CRC32")])))
    if pick == 11:
        return Req("PUT", b, k, [("partNumber", str(rng.randint(1, 3))), ("uploadId", upload)],
                   body=rng.randbytes(rng.choice([1, 50, 3000])))
    if pick == 12:
        return Req("PUT", b, k, [("partNumber", "1"), ("uploadId", upload)],
                   {"x-amz-copy-source": f"{b}/{quote(rng.choice(st.keys))}", "x-amz-copy-source-range": "bytes=0-4"})
    if pick == 13:
        parts = sorted(st.parts[upload].items(), key=lambda part: int(part[0])) or [("1", '"%s"' % ("0" * 32))]
        xml = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in parts)
        return Req("POST", b, k, [("uploadId", upload)],
                   body=f"<CompleteMultipartUpload>{xml}</CompleteMultipartUpload>".encode())
    if pick == 14:
        if rng.random() < 0.5: return Req("GET", b, k, [("uploadId", upload), ("max-parts", "1"),
                                                       ("part-number-marker", "1")])
        return Req("GET", b, None, [("uploads", None), ("max-uploads", "1"), ("key-marker", k),
                                    ("upload-id-marker", upload)])
    if pick == 15:
        objs = "".join(f"<Object><Key>{rng.choice(st.keys)}</Key>" + "".join(
            f"<VersionId>{v}</VersionId>" for _, v in some(vid, 0.8)) + "</Object>" for _ in range(rng.randint(1, 3)))
        return Req("POST", b, None, [("delete", None)], md5=True,
                   body=f"<Delete><Quiet>{rng.choice(['true', 'false'])}</Quiet>{objs}</Delete>".encode())
    if pick == 16: return versioning(st.buckets[0])
    if pick == 17: return Req("GET", b, rng.choice([None, k]), [(rng.choice(["versioning", "location", "acl"]), None)])
    if pick == 18:
        src = f"{b}/{quote(rng.choice(st.keys))}" + "".join(f"?versionId={v}" for _, v in some(vid, 0.6))
        h = {"x-amz-copy-source": src, "x-amz-metadata-directive": rng.choice(["COPY", "REPLACE"])}
        return Req("PUT", b, k + "-copy", headers=h | dict(some([("x-amz-copy-source-if-modified-since", OLD)])))
    if pick == 19:
        method = rng.choice(["PUT", "PUT", "HEAD", "DELETE", "GET"])
        body = b"<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint>"
        return Req(method, None if method == "GET" else rng.choice([st.extra, b]),
                   body=body + b"</CreateBucketConfiguration>" if method == "PUT" else b"")
    if pick == 20: return Req("DELETE", b, k, [("uploadId", upload)]) if rng.random() < 0.3 else Req("HEAD", b)
    user, serial, action = st.any("UserName", rng), st.any("SerialNumber", rng), rng.choice(ACTIONS)
    key_id = st.any("AccessKeyId", rng)
    generic = [("UserName", user), ("SerialNumber", serial), ("MaxItems", "3"), ("AccessKeyId", key_id)]
    params = {"ListUsers": [("MaxItems", "2"), ("Marker", st.any("Marker", rng))],
              "CreateUser": [("UserName", f"u{rng.randrange(1000)}"), ("Path", "/fz/")],
              "CreateVirtualMFADevice": [("VirtualMFADeviceName", f"d{rng.randrange(1000)}"), ("Path", "/"),
                                         ("Tags.member.1.Key", "k"), ("Tags.member.1.Value", "v")],
              "ListVirtualMFADevices": [("AssignmentStatus", "Any"), ("MaxItems", "5")],
              "EnableMFADevice": [("UserName", user), ("SerialNumber", serial), ("AuthenticationCode1", "123456"),
                                  ("AuthenticationCode2", "654321")],
              "GetSessionToken": [("DurationSeconds", "900")] + some([("SerialNumber", serial), ("TokenCode", "1")]),
              "TagMFADevice": [("SerialNumber", serial), ("Tags.member.1.Key", "a"), ("Tags.member.1.Value", "b")],
              "UntagMFADevice": [("SerialNumber", serial), ("TagKeys.member.1", "a")],
              "UpdateAccessKey": generic[3:] + [("Status", "Inactive")]}.get(action, some(generic, 0.5))
    return Req("POST", form=[("Action", action), ("Version", "2010-05-08")] + params)


def versioning(bucket):
    return Req("PUT", bucket, None, [("versioning", None)],
               body=b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status>'
               b'<MfaDelete>Disabled</MfaDelete></VersioningConfiguration>')


def mutate_xml(rng, body):
    pick, text = rng.randrange(10), lambda sub, count=1: re.sub(rb">([^<]*)<", sub, body, count=count)  # noqa: E731
    # every branch returns: truncate, nest, huge numbers, bad UTF-8, entities, XXE, repeat, odd documents, bit flips
    if pick == 0: return body[:rng.randrange(len(body) + 1)]
    if pick == 1:
        n, at = rng.choice([100, 1000, 10000, 30000]), body.find(b">") + 1
        return body[:at] + b"<a>" * n + (b"</a>" * n if rng.random() < 0.5 else b"") + body[at:]
    if pick == 2: return text(lambda m: b">" + rng.choice(NUMBERS).encode() + b"<", 3)
    if pick == 3:
        at, bad = rng.randrange(len(body) + 1), rng.choice([b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80",
                                                            b"\x00", b"\x01"])
        return body[:at] + bad + body[at:]
    if pick == 4:  # billion laughs: &i; is 10^9 a's
        laughs = b"".join(b'<!ENTITY %c "%s">' % (c, b"&%c;" % (c - 1) * 10) for c in b"bcdefghi")
        return b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">' + laughs + b"]>" + text(b">&i;<")
    if pick == 5:
        ent = rng.choice([b"&#0;", b"&#x110000;", b"&#99999999999999999999;", b"&#xD800;", b"&nope;", b"&amp",
                          b"<![CDATA[x]]>", b"<!-- -- -->", b"<?pi x?>", b"&#x41;", b"&#1;"])
        return text(lambda m: b">" + m.group(1) + ent + b"<", rng.randint(1, 3))
    if pick == 6: return b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + text(b">&e;<")
    if pick == 7:
        m = re.search(rb"<(Part|Object)>.*?</\1>", body)
        return body if not m else body[:m.start()] + m.group(0) * rng.choice([2, 1001, 3000]) + body[m.start():]
    if pick == 8: return rng.choice([b"", b"<", b"<a", b"<?xml version='1.0'?>", b"<a></b>", b'<a x="1" x="2"/>',
                                     b"<Delete/>", b"<CompleteMultipartUpload/>", b"\xef\xbb\xbf" + body])
    data = bytearray(body)
    for _ in range(rng.randint(1, 4) if data else 0): data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def mutate(req, rng, st):
    """One mutation, in place."""
    pick = rng.randrange(100)
    if pick < 30:
        name = rng.choice(list(req.headers) + HEADERS) if rng.random() < 0.9 else "x-amz-meta-" + rng.choice(
            ["", "m" * 300, "ü", "a b", "a:b", "_", "%00"])
        if name.lower() == "host" and rng.random() < 0.5:  # virtual-host style, signed
            req.vhost = rng.choice([req.bucket or "", req.bucket or "", "", "UPPER", "a.b", nasty(rng)[:70]])
        elif name.lower() == "host":
            req.post["Host"] = rng.choice(["", "127.0.0.1:1", "ü", "a" * 300, "[::1", "[::1]:80", "b.fuzz.test",
                                           ".fuzz.test", "FUZZ.TEST", f"x.fuzz.test:{N[1]}", "x.fuzz.test.", ":"])
        elif name.lower() == "date" and rng.random() < 0.5:  # unsigned, and the only date the server sees
            req.post.update({"Date": rng.choice(DATES), "X-Amz-Date": None})
        else: req.headers[name] = nasty(rng)
    elif pick < 52:
        op = rng.randrange(4)
        if op == 0 and req.query: req.query[rng.randrange(len(req.query))] = (rng.choice(req.query)[0], nasty(rng))
        elif op == 1 and req.query: del req.query[rng.randrange(len(req.query))]
        elif op == 2: req.query.append((nasty(rng)[:50] if rng.random() < 0.2 else rng.choice(QUERY), None))
        else: req.query.append((rng.choice(QUERY), nasty(rng)))
    elif pick < 64 and req.form is None:
        if rng.random() < 0.7:
            odd = "".join(chr(rng.choice([0, 1, 0x2F, 0x7F, 0xFF, 0xFFFD, 0x10FFFF, 0x41])) for _ in range(8))
            req.key = rng.choice([nasty(rng), odd[:rng.randint(1, 8)], "a/" * 600, "k/../../x", "x" * 1025, ".", ".."])
            req.bucket = req.bucket or rng.choice(st.buckets)
        elif rng.random() < 0.7:
            req.bucket = rng.choice(["", "UPPER", "a", "a" * 64, "192.168.0.1", "xn--a", "a..b", "-a", nasty(rng)])
        else:
            req.raw_path = rng.choice(["", "*", "//", "/%", "/%zz/k", "/%FF%FE", "/b/%C0%AF", "http://x/y",
                                       f"/{st.buckets[0]}/%00", f"/{st.buckets[0]}//k"])
    elif pick < 80 and req.form is None:
        if re.match(rb"[0-9a-f]+\r\n", req.body):  # aws-chunked framing
            size = rng.choice([b"ffffffffffffffff", b"7fffffffffffffff", b"-1", b"0x10", b"", b"1;chunk-signature=x",
                               b"10000000000000000", b"0", b"00000000000000001"])
            req.body = rng.choice([re.sub(rb"^[0-9a-f]+", size, req.body), req.body[:rng.randrange(len(req.body))],
                                   req.body.replace(b"\r\n\r\n", b"\r\n" + nasty(rng).encode() + b"\r\n\r\n")])
        else:
            req.body = mutate_xml(rng, req.body) if req.body.startswith(b"<") else rng.choice(
                [b"", rng.randbytes(rng.randrange(1, 3000)), b"<Delete><Object><Key>k</Key></Object></Delete>"])
    elif pick < 80:
        op = rng.randrange(5)
        if op == 0: req.form.append((rng.choice(FORM), nasty(rng)))
        elif op == 1: req.form[rng.randrange(len(req.form))] = (rng.choice(req.form)[0], nasty(rng))
        elif op == 2: req.form[0] = ("Action", rng.choice(ACTIONS + ["AssumeRole", "", "listusers", nasty(rng)]))
        elif op == 3: req.form.append((nasty(rng)[:30], nasty(rng)))
        else: req.form_raw = rng.choice([b"%", b"%ZZ", b"Action=%FF", b"&&&=", b"Action=ListUsers&" + b"a=b&" * 20000,
                                         b"Action=ListUsers&MaxItems=\xff\xfe", b"\x00" * 10, b"Action"])
    elif pick < 88:
        req.method = rng.choice(["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH", "get", "X" * 50])
    else:
        name = rng.choice(["Date", "X-Amz-Date", "Authorization", "Authorization", "x-amz-content-sha256", "query"])
        if name == "query":  # presigned-URL parameters next to (or instead of) the header
            req.query += [(n, nasty(rng) if rng.random() < 0.5 else v) for n, v in PRESIGN if rng.random() < 0.6]
            req.post["Authorization"] = None if rng.random() < 0.7 else nasty(rng)
        elif name == "Authorization":
            req.post[name] = rng.choice([nasty(rng), "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 Credential=" + nasty(rng),
                                         f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{nasty(rng)}/us-east-1/s3/aws4_req"
                                         f"uest, SignedHeaders={nasty(rng)}, Signature={nasty(rng)}",
                                         f"AWS {ACCESS_KEY}:{nasty(rng)}"])
        else:
            req.post[name] = rng.choice(DATES) if "Date" in name else nasty(rng)
            if name == "Date": req.post["X-Amz-Date"] = None
    if rng.random() < 0.02:  # bytes HTTP/1.1 forbids: the server may drop the connection for these
        req.post["x-fuzz-ctl"] = rng.choice(["a\x00b", "\x01", "\x7f", "a\x1bb"])
