"""ListObjects v1/v2, ListObjectVersions pagination, DeleteObjects."""
import pytest
from botocore.exceptions import ClientError
from conftest import error_code

KEYS = ["a", "a b", "a%20b", "a+b", "dir/x", "dir/y", "dir//z", "dir/sub/1", "ü/ß", "zz"]


def populate(s3, bucket, versions_per_key=3, markers=True):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for index, key in enumerate(KEYS):
        for round_ in range(1 + index % versions_per_key):
            s3.put_object(Bucket=bucket, Key=key, Body=f"{key} {round_}".encode())
        if markers and index % 3 == 1:
            s3.delete_object(Bucket=bucket, Key=key)


def test_list_object_versions_max_keys_1_no_gap_no_repeat(s3, bucket):
    populate(s3, bucket)
    full = s3.list_object_versions(Bucket=bucket)
    expected = [(e["Key"], e["VersionId"]) for e in sorted(
        full.get("Versions", []) + full.get("DeleteMarkers", []),
        key=lambda e: (e["Key"].encode(), -e["LastModified"].timestamp()))]
    seen = []
    kwargs = {"MaxKeys": 1}
    pages = 0
    while True:
        page = s3.list_object_versions(Bucket=bucket, **kwargs)
        entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
        assert len(entries) == 1
        seen += [(e["Key"], e["VersionId"]) for e in entries]
        pages += 1
        if not page["IsTruncated"]:
            break
        kwargs = {"MaxKeys": 1, "KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
    assert len(seen) == len(set(seen)) == pages
    assert sorted(seen) == sorted(expected)
    # Keys ascending; exactly one IsLatest per key.
    latest = [e["Key"] for e in full.get("Versions", []) + full.get("DeleteMarkers", []) if e["IsLatest"]]
    assert sorted(latest) == sorted(KEYS)


def test_paginators_over_odd_keys(s3, bucket):
    populate(s3, bucket)
    paginator = s3.get_paginator("list_object_versions")
    entries = []
    for page in paginator.paginate(Bucket=bucket, PaginationConfig={"PageSize": 2}):
        entries += page.get("Versions", []) + page.get("DeleteMarkers", [])
    assert len(entries) == len({(e["Key"], e["VersionId"]) for e in entries})
    assert {e["Key"] for e in entries} == set(KEYS)
    v2 = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 1}) for o in page.get("Contents", [])]
    deleted = {k for i, k in enumerate(KEYS) if i % 3 == 1}
    assert v2 == sorted((k for k in KEYS if k not in deleted), key=lambda k: k.encode())
    v1 = [o["Key"] for page in s3.get_paginator("list_objects").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2}) for o in page.get("Contents", [])]
    assert v1 == v2


def test_delimiter_and_prefixes(s3, bucket):
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    top = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["dir/", "ü/"]
    assert [o["Key"] for o in top["Contents"]] == ["a", "a b", "a%20b", "a+b", "zz"]
    assert top["KeyCount"] == 7
    inner = s3.list_objects_v2(Bucket=bucket, Delimiter="/", Prefix="dir/")
    assert [p["Prefix"] for p in inner["CommonPrefixes"]] == ["dir//", "dir/sub/"]
    assert [o["Key"] for o in inner["Contents"]] == ["dir/x", "dir/y"]
    # One entry per page, prefixes included, nothing repeated.
    seen = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Delimiter="/",
                                                             PaginationConfig={"PageSize": 1}):
        seen += [o["Key"] for o in page.get("Contents", [])] + [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert sorted(seen) == sorted(["a", "a b", "a%20b", "a+b", "zz", "dir/", "ü/"])
    versions = s3.list_object_versions(Bucket=bucket, Delimiter="/", Prefix="dir/")
    assert [p["Prefix"] for p in versions["CommonPrefixes"]] == ["dir//", "dir/sub/"]
    # start-after and fetch-owner
    after = s3.list_objects_v2(Bucket=bucket, StartAfter="dir/x", FetchOwner=True)
    assert after["Contents"][0]["Key"] == "dir/y" and "Owner" in after["Contents"][0]


def test_listing_argument_errors(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.list_object_versions(Bucket=bucket, VersionIdMarker="x" * 32)
    assert error_code(e) == "InvalidArgument"
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=bucket, ContinuationToken="garbage")
    assert error_code(e) == "InvalidArgument"
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=bucket, EncodingType="base64")
    assert error_code(e) == "InvalidArgument"


def test_delete_objects_mixed_quiet_and_idempotent(s3, versioned):
    v1 = s3.put_object(Bucket=versioned, Key="a", Body=b"1")["VersionId"]
    s3.put_object(Bucket=versioned, Key="b", Body=b"1")
    marker = s3.delete_object(Bucket=versioned, Key="c")["VersionId"]
    objects = [{"Key": "a", "VersionId": v1}, {"Key": "b"}, {"Key": "c", "VersionId": marker},
               {"Key": "d", "VersionId": "malformed"}]
    result = s3.delete_objects(Bucket=versioned, Delete={"Objects": objects})
    deleted = {d["Key"]: d for d in result["Deleted"]}
    assert deleted["a"] == {"Key": "a", "VersionId": v1}
    assert deleted["b"]["DeleteMarker"] is True and "DeleteMarkerVersionId" in deleted["b"]
    assert deleted["c"] == {"Key": "c", "VersionId": marker, "DeleteMarker": True, "DeleteMarkerVersionId": marker}
    assert result["Errors"] == [{"Key": "d", "VersionId": "malformed", "Code": "NoSuchVersion",
                                 "Message": "The specified version does not exist."}]
    again = s3.delete_objects(Bucket=versioned, Delete={"Objects": objects[:1] + objects[2:3]})
    assert len(again["Deleted"]) == 2 and "Errors" not in again
    quiet = s3.delete_objects(Bucket=versioned, Delete={"Objects": [{"Key": "b"}], "Quiet": True})
    assert "Deleted" not in quiet and "Errors" not in quiet


def test_delete_objects_limits(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"k{i}"} for i in range(1001)]})
    assert error_code(e) == "MalformedXML"
    many = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"k{i}"} for i in range(1000)]})
    assert len(many["Deleted"]) == 1000


def test_delete_objects_malformed_xml(server, bucket):
    import base64, hashlib, requests, botocore.auth, botocore.awsrequest, botocore.credentials
    from conftest import ACCESS_KEY, SECRET_KEY
    for body in [b"<Delete><Object><Key>a</Key></Object>", b"not xml", b"<Delete></Delete>",
                 b"<Delete><Object><VersionId>x</VersionId></Object></Delete>"]:
        url = f"{server.endpoint}/{bucket}?delete"
        headers = {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}
        request = botocore.awsrequest.AWSRequest(method="POST", url=url, data=body, headers=headers)
        botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY), "s3",
                                  "us-east-1").add_auth(request)
        response = requests.post(url, data=body, headers=dict(request.headers.items()))
        assert response.status_code == 400 and "<Code>MalformedXML</Code>" in response.text, body
    # No integrity header at all: refused.
    body = b"<Delete><Object><Key>a</Key></Object></Delete>"
    request = botocore.awsrequest.AWSRequest(method="POST", url=url, data=body)
    botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY), "s3",
                              "us-east-1").add_auth(request)
    response = requests.post(url, data=body, headers=dict(request.headers.items()))
    assert response.status_code == 400 and "<Code>InvalidRequest</Code>" in response.text
