import CofferCore
import Hummingbird
import HTTPTypes
import NIOCore

/// Response building shared by every handler.
enum S3Response {
    static let requestID = HTTPField.Name("x-amz-request-id")!
    static let hostID = HTTPField.Name("x-amz-id-2")!
    static let versionID = HTTPField.Name("x-amz-version-id")!
    static let deleteMarker = HTTPField.Name("x-amz-delete-marker")!

    /// An XML document with status 200 (or as given).
    static func xml(_ writer: XMLWriter, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/xml"
        let buffer = ByteBuffer(string: writer.text)
        fields[.contentLength] = String(buffer.readableBytes)
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: buffer))
    }

    /// A response with no body.
    static func empty(_ status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        if status != .noContent, status != .notModified, fields[.contentLength] == nil { fields[.contentLength] = "0" }
        return Response(status: status, headers: fields, body: ResponseBody())
    }

    /// The S3 XML error document (§2.1): Code, Message, the error's extra elements, Resource,
    /// RequestId, HostId. HEAD responses carry the status and headers only.
    static func error(_ error: S3Error, resource: String, requestID: String, isHead: Bool) -> Response {
        var fields = HTTPFields()
        for (name, value) in error.headers {
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        if let marker = error.deleteMarker {
            fields.append(HTTPField(name: S3Response.deleteMarker, value: "true"))
            if let versionID = marker.versionID { fields.append(HTTPField(name: S3Response.versionID, value: versionID)) }
            if let modified = marker.lastModified {
                fields.append(HTTPField(name: .lastModified, value: HTTPDate.format(milliseconds: modified)))
                fields.append(HTTPField(name: .allow, value: "DELETE"))
            }
        }
        let status = error.httpStatus
        if isHead || error.code == .notModified {
            return empty(status, headers: fields)
        }
        var writer = XMLWriter()
        writer.document("Error", namespace: nil) { xml in
            xml.element("Code", error.code.rawValue)
            xml.element("Message", error.message)
            for (name, value) in error.details { xml.element(name, value) }
            xml.element("Resource", resource)
            xml.element("RequestId", requestID)
            xml.element("HostId", requestID)
        }
        return xml(writer, status: status, headers: fields)
    }
}

extension HTTPField.Name {
    static let contentMD5 = HTTPField.Name("Content-MD5")!
}
