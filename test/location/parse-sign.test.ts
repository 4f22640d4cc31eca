// Pure parts of the location layer: parseLocation and the SigV4 signer
// (golden: AWS's published "GET Object" example of Signature Version 4).
import { describe, expect, test } from "bun:test";
import { UsageError } from "../../src/errors.ts";
import { parseLocation } from "../../src/location/location.ts";
import { s3ConfigFromEnv } from "../../src/location/s3.ts";
import { EMPTY_SHA256, signRequest, uriEncode } from "../../src/location/s3-sign.ts";

describe("parseLocation", () => {
  test("folders and buckets", () => {
    expect(parseLocation("/srv/zodb/backups")).toEqual({ kind: "folder", path: "/srv/zodb/backups" });
    expect(parseLocation("backups")).toEqual({ kind: "folder", path: "backups" });
    expect(parseLocation("s3://my-bucket")).toEqual({ kind: "s3", bucket: "my-bucket", prefix: "" });
    expect(parseLocation("s3://my-bucket/")).toEqual({ kind: "s3", bucket: "my-bucket", prefix: "" });
    expect(parseLocation("s3://my.bucket/site/zodb/")).toEqual({ kind: "s3", bucket: "my.bucket", prefix: "site/zodb" });
  });
  test("refusals", () => {
    for (const bad of ["", "s3://", "s3://B/x", "s3://ab", "s3://b/../x", "s3://bkt/a//b", "gs://bucket/x"]) {
      expect(() => parseLocation(bad)).toThrow(UsageError);
    }
  });
});

describe("s3ConfigFromEnv", () => {
  const keys = { AWS_ACCESS_KEY_ID: "AK", AWS_SECRET_ACCESS_KEY: "very-secret" };
  test("AWS default and custom endpoints", () => {
    const aws = s3ConfigFromEnv(keys);
    expect([aws.endpoint, aws.region, aws.pathStyle, aws.timeoutMs]).toEqual(["https://s3.us-east-1.amazonaws.com", "us-east-1", false, 60000]);
    const rgw = s3ConfigFromEnv({ ...keys, AWS_ENDPOINT_URL: "http://127.0.0.1:7480/", AWS_ENDPOINT_URL_S3: "http://10.0.0.1:9000", AWS_REGION: "eu-1", DSBACKUP_S3_TIMEOUT_MS: "500" });
    expect([rgw.endpoint, rgw.region, rgw.pathStyle, rgw.timeoutMs]).toEqual(["http://10.0.0.1:9000", "eu-1", true, 500]);
  });
  test("missing keys and bad settings are usage errors that never show the secret", () => {
    expect(() => s3ConfigFromEnv({ AWS_ACCESS_KEY_ID: "AK" })).toThrow(UsageError);
    for (const env of [{ DSBACKUP_S3_TIMEOUT_MS: "soon" }, { AWS_ENDPOINT_URL: "127.0.0.1:7480" }]) {
      let message = "";
      try { s3ConfigFromEnv({ ...keys, ...env }); } catch (e) { message = (e as Error).message; }
      expect(message).not.toBe("");
      expect(message).not.toContain("very-secret");
    }
  });
});

describe("SigV4", () => {
  test("AWS documentation example: GET /test.txt with a Range header", () => {
    const headers = signRequest({
      method: "GET",
      url: new URL("https://examplebucket.s3.amazonaws.com/test.txt"),
      headers: { Range: "bytes=0-9" },
      payloadHash: EMPTY_SHA256,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
      now: new Date("2013-05-24T00:00:00Z"),
    });
    expect(headers.authorization).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, " +
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    );
  });
  test("AWS documentation example: GET ?lifecycle (empty query value)", () => {
    const headers = signRequest({
      method: "GET",
      url: new URL("https://examplebucket.s3.amazonaws.com/?lifecycle"),
      payloadHash: EMPTY_SHA256,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
      now: new Date("2013-05-24T00:00:00Z"),
    });
    expect(headers.authorization).toEndWith("Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  });
  test("uriEncode", () => {
    expect(uriEncode("a b/ü~*", true)).toBe("a%20b/%C3%BC~%2A");
    expect(uriEncode("a/b")).toBe("a%2Fb");
  });
});
