/* cmsgpack: MessagePack for scripts, with the API, encodings and error messages of the
 * lua-cmsgpack 0.4.0 that Redis 7.0 embeds, quirks included:
 *  - a number that holds an int64 exactly is packed as the smallest integer form, any other
 *    number as a 32-bit float when that is lossless, else as a double;
 *  - strings always use the str forms (fixstr, str8/16/32), never bin;
 *  - a table whose keys are exactly 1..n is an array, anything else a map; tables nested
 *    16 deep are packed as nil;
 *  - unpacking knows no bin or ext types ("Bad data format"), returns uint64 values at or
 *    above 2^63 as negative numbers, and int64 values through a double. */

#include "script_libraries.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <lua5.1/lauxlib.h>

#define NESTING_LIMIT 16

/* ---------------------------------------------------------------------------------------
 * Packing */

/* The bytes being packed. Small results stay in `local`; bigger ones move to a userdata kept
 * in pack's upvalue, so a Lua error raised mid-way (out of memory, stack overflow) leaks
 * nothing, and the memory counts against the script memory limit. */
typedef struct {
    lua_State *L;
    unsigned char *data;
    size_t len, cap;
    unsigned char local[512];
} packer;

static void packer_reserve(packer *p, size_t extra) {
    if (p->cap - p->len >= extra) return;
    size_t cap = (p->len + extra) * 2;
    luaL_checkstack(p->L, 1, "in function pack");
    unsigned char *bigger = lua_newuserdata(p->L, cap);
    memcpy(bigger, p->data, p->len);
    lua_replace(p->L, lua_upvalueindex(1));
    p->data = bigger;
    p->cap = cap;
}

static void put_bytes(packer *p, const void *bytes, size_t n) {
    packer_reserve(p, n);
    memcpy(p->data + p->len, bytes, n);
    p->len += n;
}

/* A type byte followed by the low `width` bytes of `value`, big-endian. */
static void put_tagged(packer *p, unsigned char tag, uint64_t value, int width) {
    unsigned char b[9];
    b[0] = tag;
    for (int i = width; i >= 1; i--) {
        b[i] = (unsigned char)value;
        value >>= 8;
    }
    put_bytes(p, b, (size_t)width + 1);
}

static void put_int(packer *p, int64_t n) {
    if (n >= 0) {
        if (n <= 0x7f) put_tagged(p, (unsigned char)n, 0, 0);
        else if (n <= 0xff) put_tagged(p, 0xcc, (uint64_t)n, 1);
        else if (n <= 0xffff) put_tagged(p, 0xcd, (uint64_t)n, 2);
        else if (n <= 0xffffffffLL) put_tagged(p, 0xce, (uint64_t)n, 4);
        else put_tagged(p, 0xcf, (uint64_t)n, 8);
    } else {
        if (n >= -32) put_tagged(p, (unsigned char)n, 0, 0);
        else if (n >= -128) put_tagged(p, 0xd0, (uint64_t)n, 1);
        else if (n >= -32768) put_tagged(p, 0xd1, (uint64_t)n, 2);
        else if (n >= INT32_MIN) put_tagged(p, 0xd2, (uint64_t)n, 4);
        else put_tagged(p, 0xd3, (uint64_t)n, 8);
    }
}

static void put_float_or_double(packer *p, double d) {
    float f = (float)d;
    if ((double)f == d) {
        uint32_t bits;
        memcpy(&bits, &f, 4);
        put_tagged(p, 0xca, bits, 4);
    } else {
        uint64_t bits;
        memcpy(&bits, &d, 8);
        put_tagged(p, 0xcb, bits, 8);
    }
}

/* fix* forms hold up to 15 entries; then a 16-bit count after `tag16`, or a 32-bit one
 * after the next tag. */
static void put_count(packer *p, unsigned char fix, unsigned char tag16, size_t n) {
    if (n <= 15) put_tagged(p, fix | (unsigned char)n, 0, 0);
    else if (n <= 0xffff) put_tagged(p, tag16, n, 2);
    else put_tagged(p, tag16 + 1, n, 4);
}

static void put_string(packer *p, const char *s, size_t len) {
    if (len < 32) put_tagged(p, 0xa0 | (unsigned char)len, 0, 0);
    else if (len <= 0xff) put_tagged(p, 0xd9, len, 1);
    else if (len <= 0xffff) put_tagged(p, 0xda, len, 2);
    else put_tagged(p, 0xdb, len, 4);
    put_bytes(p, s, len);
}

/* Whether `n` converts to int64 and back unchanged (the reference's test, with the x86
 * conversion of out-of-range values spelled out). */
static int holds_int64(double n) {
    return n >= -0x1p63 && n < 0x1p63 && (double)(int64_t)n == n;
}

static void pack_value(packer *p, int level);

/* True if the table on top has exactly the keys 1..n (positive integral numbers below
 * 2^31, as many as the largest of them). The empty table is an array. */
static int is_array(lua_State *L) {
    int count = 0, max = 0;
    luaL_checkstack(L, 2, "in function table_is_an_array");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        lua_Number n;
        if (lua_type(L, -1) != LUA_TNUMBER || (n = lua_tonumber(L, -1)) <= 0 ||
            n >= 0x1p31 || (lua_Number)(int)n != n) {
            lua_pop(L, 1);
            return 0;
        }
        if (n > max) max = (int)n;
        count++;
    }
    return max == count;
}

static void pack_array(packer *p, int level) {
    lua_State *L = p->L;
    size_t len = lua_objlen(L, -1);
    put_count(p, 0x90, 0xdc, len);
    luaL_checkstack(L, 1, "in function mp_encode_lua_table_as_array");
    for (size_t i = 1; i <= len; i++) {
        lua_rawgeti(L, -1, (int)i);
        pack_value(p, level + 1);
    }
}

static void pack_map(packer *p, int level) {
    lua_State *L = p->L;
    size_t count = 0;
    luaL_checkstack(L, 3, "in function mp_encode_lua_table_as_map");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        count++;
    }
    put_count(p, 0x80, 0xde, count);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        pack_value(p, level + 1); /* the key's copy */
        pack_value(p, level + 1); /* the value; the key stays for lua_next */
    }
}

/* Packs the value on top of the stack and pops it. */
static void pack_value(packer *p, int level) {
    lua_State *L = p->L;
    int type = lua_type(L, -1);
    if (type == LUA_TTABLE && level == NESTING_LIMIT) type = LUA_TNIL;
    switch (type) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        put_string(p, s, len);
        break;
    }
    case LUA_TBOOLEAN:
        put_tagged(p, lua_toboolean(L, -1) ? 0xc3 : 0xc2, 0, 0);
        break;
    case LUA_TNUMBER: {
        lua_Number n = lua_tonumber(L, -1);
        if (holds_int64(n)) put_int(p, (int64_t)n);
        else put_float_or_double(p, n);
        break;
    }
    case LUA_TTABLE:
        if (is_array(L)) pack_array(p, level);
        else pack_map(p, level);
        break;
    default: /* nil, functions, userdata, threads */
        put_tagged(p, 0xc0, 0, 0);
        break;
    }
    lua_pop(L, 1);
}

/* cmsgpack.pack(v1, v2, ...): the values packed one after the other. */
static int pack(lua_State *L) {
    int nargs = lua_gettop(L);
    if (nargs == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
    if (!lua_checkstack(L, nargs)) return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");
    packer p;
    p.L = L;
    p.data = p.local;
    p.len = 0;
    p.cap = sizeof p.local;
    /* Each value's bytes go on the stack and are joined at the end, as the reference does,
     * so scripts near the stack limit fail at the same point. */
    for (int i = 1; i <= nargs; i++) {
        luaL_checkstack(L, 1, "in function mp_check");
        lua_pushvalue(L, i);
        pack_value(&p, 0);
        lua_pushlstring(L, (const char *)p.data, p.len);
        p.len = 0;
    }
    lua_pushnil(L);
    lua_replace(L, lua_upvalueindex(1));
    lua_concat(L, nargs);
    return 1;
}

/* ---------------------------------------------------------------------------------------
 * Unpacking */

enum { READ_OK, READ_TRUNCATED, READ_BAD_FORMAT };

typedef struct {
    const unsigned char *p;
    size_t left;
    int error;
} reader;

#define NEED(r, n)                                                                         \
    do {                                                                                   \
        if ((r)->left < (size_t)(n)) {                                                     \
            (r)->error = READ_TRUNCATED;                                                   \
            return;                                                                        \
        }                                                                                  \
    } while (0)

static void skip(reader *r, size_t n) {
    r->p += n;
    r->left -= n;
}

static uint64_t big_endian(const unsigned char *s, int width) {
    uint64_t v = 0;
    for (int i = 0; i < width; i++) v = (v << 8) | s[i];
    return v;
}

static void unpack_value(lua_State *L, reader *r);

/* Arrays and maps fill a table created empty and grown key by key, as the reference's,
 * so that tables with nil holes get the same layout (and the same `#t`). */
static void unpack_array(lua_State *L, reader *r, size_t count) {
    lua_newtable(L);
    luaL_checkstack(L, 1, "in function mp_decode_to_lua_array");
    for (int index = 1; count > 0; count--) {
        lua_pushnumber(L, index++);
        unpack_value(L, r);
        if (r->error) return;
        lua_rawset(L, -3);
    }
}

static void unpack_map(lua_State *L, reader *r, size_t count) {
    lua_newtable(L);
    for (; count > 0; count--) {
        unpack_value(L, r);
        if (r->error) return;
        unpack_value(L, r);
        if (r->error) return;
        lua_rawset(L, -3); /* raises "table index is nil/NaN" like the reference */
    }
}

static void unpack_string(lua_State *L, reader *r, size_t header, size_t len) {
    NEED(r, header + len);
    lua_pushlstring(L, (const char *)r->p + header, len);
    skip(r, header + len);
}

/* The number of `width` bytes after the type byte, which is then skipped with them. */
static size_t read_count(reader *r, int width) {
    size_t n = (size_t)big_endian(r->p + 1, width);
    skip(r, (size_t)width + 1);
    return n;
}

/* Pushes the next value, or sets r->error. */
static void unpack_value(lua_State *L, reader *r) {
    NEED(r, 1);
    luaL_checkstack(L, 1, "too many return values at once; use unpack_one or unpack_limit instead.");
    unsigned char tag = r->p[0];
    switch (tag) {
    case 0xc0: lua_pushnil(L); skip(r, 1); return;
    case 0xc2: lua_pushboolean(L, 0); skip(r, 1); return;
    case 0xc3: lua_pushboolean(L, 1); skip(r, 1); return;
    case 0xcc: NEED(r, 2); lua_pushinteger(L, r->p[1]); skip(r, 2); return;
    case 0xcd: NEED(r, 3); lua_pushinteger(L, (lua_Integer)big_endian(r->p + 1, 2)); skip(r, 3); return;
    case 0xce: NEED(r, 5); lua_pushinteger(L, (lua_Integer)big_endian(r->p + 1, 4)); skip(r, 5); return;
    case 0xcf: NEED(r, 9); lua_pushinteger(L, (lua_Integer)big_endian(r->p + 1, 8)); skip(r, 9); return;
    case 0xd0: NEED(r, 2); lua_pushinteger(L, (int8_t)r->p[1]); skip(r, 2); return;
    case 0xd1: NEED(r, 3); lua_pushinteger(L, (int16_t)big_endian(r->p + 1, 2)); skip(r, 3); return;
    case 0xd2: NEED(r, 5); lua_pushinteger(L, (int32_t)big_endian(r->p + 1, 4)); skip(r, 5); return;
    case 0xd3: NEED(r, 9); lua_pushnumber(L, (lua_Number)(int64_t)big_endian(r->p + 1, 8)); skip(r, 9); return;
    case 0xca: {
        NEED(r, 5);
        uint32_t bits = (uint32_t)big_endian(r->p + 1, 4);
        float f;
        memcpy(&f, &bits, 4);
        lua_pushnumber(L, f);
        skip(r, 5);
        return;
    }
    case 0xcb: {
        NEED(r, 9);
        uint64_t bits = big_endian(r->p + 1, 8);
        double d;
        memcpy(&d, &bits, 8);
        lua_pushnumber(L, d);
        skip(r, 9);
        return;
    }
    case 0xd9: NEED(r, 2); unpack_string(L, r, 2, r->p[1]); return;
    case 0xda: NEED(r, 3); unpack_string(L, r, 3, (size_t)big_endian(r->p + 1, 2)); return;
    case 0xdb: NEED(r, 5); unpack_string(L, r, 5, (size_t)big_endian(r->p + 1, 4)); return;
    case 0xdc: NEED(r, 3); unpack_array(L, r, read_count(r, 2)); return;
    case 0xdd: NEED(r, 5); unpack_array(L, r, read_count(r, 4)); return;
    case 0xde: NEED(r, 3); unpack_map(L, r, read_count(r, 2)); return;
    case 0xdf: NEED(r, 5); unpack_map(L, r, read_count(r, 4)); return;
    default: break;
    }
    if (tag < 0x80) {
        lua_pushinteger(L, tag);
        skip(r, 1);
    } else if (tag >= 0xe0) {
        lua_pushinteger(L, (int8_t)tag);
        skip(r, 1);
    } else if ((tag & 0xe0) == 0xa0) {
        unpack_string(L, r, 1, tag & 0x1f);
    } else if ((tag & 0xf0) == 0x90) {
        skip(r, 1);
        unpack_array(L, r, tag & 0x0f);
    } else if ((tag & 0xf0) == 0x80) {
        skip(r, 1);
        unpack_map(L, r, tag & 0x0f);
    } else {
        r->error = READ_BAD_FORMAT; /* bin, ext, and the unused 0xc1 */
    }
}

/* Unpacks up to `limit` values of argument 1 from byte `offset`. With neither a limit nor an
 * offset, every value; otherwise the offset after the last value read (-1 at the end)
 * comes first. */
static int unpack_from(lua_State *L, lua_Integer limit, lua_Integer offset) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int everything = !limit && !offset;
    if (offset < 0 || limit < 0) {
        /* The reference prints the input length where it says "limit". */
        return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.",
                          (int)offset, (int)len);
    }
    if ((size_t)offset > len) {
        return luaL_error(L, "Start offset %d greater than input length %d.", (int)offset, (int)len);
    }
    if (everything) limit = INT_MAX;
    reader r = {(const unsigned char *)s + offset, len - (size_t)offset, READ_OK};
    int count = 0;
    for (; r.left > 0 && count < limit; count++) {
        unpack_value(L, &r);
        if (r.error == READ_TRUNCATED) return luaL_error(L, "Missing bytes in input.");
        if (r.error == READ_BAD_FORMAT) return luaL_error(L, "Bad data format in input.");
    }
    if (everything) return count;
    luaL_checkstack(L, 1, "in function mp_unpack_full");
    lua_pushinteger(L, r.left == 0 ? -1 : (lua_Integer)(len - r.left));
    lua_insert(L, 2);
    return count + 1;
}

/* cmsgpack.unpack(s): every value in s. */
static int unpack(lua_State *L) { return unpack_from(L, 0, 0); }

/* cmsgpack.unpack_one(s [, offset]): next offset, then one value. */
static int unpack_one(lua_State *L) {
    lua_Integer offset = luaL_optinteger(L, 2, 0);
    lua_pop(L, lua_gettop(L) - 1);
    return unpack_from(L, 1, offset);
}

/* cmsgpack.unpack_limit(s, limit [, offset]): next offset, then up to `limit` values. */
static int unpack_limit(lua_State *L) {
    lua_Integer limit = luaL_checkinteger(L, 2);
    lua_Integer offset = luaL_optinteger(L, 3, 0);
    lua_pop(L, lua_gettop(L) - 1);
    return unpack_from(L, limit, offset);
}

int luaopen_cmsgpack(lua_State *L) {
    lua_newtable(L);
    lua_pushnil(L); /* pack's upvalue: its buffer, while it outgrows the C stack */
    lua_pushcclosure(L, pack, 1);
    lua_setfield(L, -2, "pack");
    lua_pushcfunction(L, unpack);
    lua_setfield(L, -2, "unpack");
    lua_pushcfunction(L, unpack_one);
    lua_setfield(L, -2, "unpack_one");
    lua_pushcfunction(L, unpack_limit);
    lua_setfield(L, -2, "unpack_limit");
    lua_pushliteral(L, "cmsgpack");
    lua_setfield(L, -2, "_NAME");
    lua_pushliteral(L, "lua-cmsgpack 0.4.0");
    lua_setfield(L, -2, "_VERSION");
    lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
    lua_setfield(L, -2, "_COPYRIGHT");
    lua_pushliteral(L, "MessagePack C implementation for Lua");
    lua_setfield(L, -2, "_DESCRIPTION");
    return 1;
}
