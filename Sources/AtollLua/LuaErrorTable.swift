/// Redis's error tables: the `{err = "CODE message"}` values `redis.pcall`, `redis.error_reply`
/// and failed commands give scripts.
import CLua

/// Pushes `{err = message}`, the message taken as it is.
func pushErrorTable(_ L: OpaquePointer, _ message: String) {
    pushErrorTable(L, Array(message.utf8))
}

func pushErrorTable(_ L: OpaquePointer, _ message: [UInt8]) {
    lua_createtable(L, 0, 1)
    pushLuaBytes(L, message)
    lua_setfield(L, -2, "err")
}

/// Pushes the error table Redis builds from `text`: "-CODE message" keeps its code (a lone
/// word after the dash is a message with code ERR), anything else gets code ERR; CR and LF
/// are trimmed from both ends of the message; a NUL ends the text, as C strings do.
func pushRedisError(_ L: OpaquePointer, _ text: [UInt8]) {
    let text = cString(text)
    var code: ArraySlice<UInt8> = Array("ERR".utf8)[...]
    var message = text[...]
    if text.first == UInt8(ascii: "-") {
        let body = text.dropFirst()
        if let space = body.firstIndex(of: 32) {
            code = body[..<space]
            message = body[(space + 1)...]
        } else {
            message = body
        }
    }
    while let first = message.first, first == 13 || first == 10 { message = message.dropFirst() }
    while let last = message.last, last == 13 || last == 10 { message = message.dropLast() }
    pushErrorTable(L, Array(code) + [32] + Array(message))
}

/// Pushes the error table for a failed command's error reply (without its CRLF); Redis marks
/// those as already counted in the error statistics.
func pushCommandError<Reply: Collection<UInt8>>(_ L: OpaquePointer, _ reply: Reply) {
    pushRedisError(L, Array(reply))
    lua_pushboolean(L, 1)
    lua_setfield(L, -2, "ignore_error_stats_update")
}

/// `bytes` up to its first NUL: what C code reading it as a string sees.
func cString(_ bytes: [UInt8]) -> [UInt8] {
    guard let nul = bytes.firstIndex(of: 0) else { return bytes }
    return Array(bytes[..<nul])
}
