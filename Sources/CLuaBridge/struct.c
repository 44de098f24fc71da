/* struct: binary packing for scripts, with the API, formats and error messages of the
 * struct library Redis 7.0 embeds (with its security fixes).
 *
 * Format options: '>' big and '<' little endian; '![n]' caps alignment at n bytes (a power
 * of 2, default 8); 'x' a zero byte; b/B h/H l/L T i/I[n] signed/unsigned integers of 1, 2,
 * 8, 8 and n (default 4, at most 32) bytes; f/d float/double; 's' a zero-terminated
 * string; 'c[n]' n bytes (c0: the whole string when packing, as many bytes as the number
 * unpacked just before when unpacking); ' ' is ignored.
 *
 * The reference's results on x86-64 are reproduced exactly, including what its undefined
 * conversions give there: out-of-range numbers packed as integers, the sign extension of
 * integers wider than 8 bytes. */

#include "script_libraries.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <lua5.1/lauxlib.h>

#define MAX_INT_SIZE 32
#define DEFAULT_INT_SIZE 4
#define DEFAULT_MAX_ALIGN 8 /* a double's alignment */

typedef struct {
    int big_endian;
    int max_align;
} layout;

static const layout initial_layout = {0, 1}; /* native (little) endian, packed */

static int is_digit(int c) { return c >= '0' && c <= '9'; }

static int is_alnum(int c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The decimal number at *fmt (consumed), or `fallback` when there is none. */
static int read_number(lua_State *L, const char **fmt, int fallback) {
    if (!is_digit(**fmt)) return fallback;
    int n = 0;
    do {
        int digit = **fmt - '0';
        if (n > INT_MAX / 10 || n * 10 > INT_MAX - digit) luaL_error(L, "integral size overflow");
        n = n * 10 + digit;
        (*fmt)++;
    } while (is_digit(**fmt));
    return n;
}

/* The bytes option `opt` takes; 0 for options that are not values (and for unknown ones,
 * which are reported later). */
static size_t option_size(lua_State *L, int opt, const char **fmt) {
    switch (opt) {
    case 'b': case 'B': case 'x': return 1;
    case 'h': case 'H': return 2;
    case 'f': return 4;
    case 'l': case 'L': case 'T': case 'd': return 8;
    case 'c': return (size_t)read_number(L, fmt, 1);
    case 'i': case 'I': {
        int size = read_number(L, fmt, DEFAULT_INT_SIZE);
        if (size > MAX_INT_SIZE) {
            luaL_error(L, "integral size %d is larger than limit of %d", size, MAX_INT_SIZE);
        }
        return (size_t)size;
    }
    default: return 0;
    }
}

/* Zero bytes needed before a value of `size` bytes at `pos`. Sizes that are not a power
 * of 2 (i3) get the reference's arithmetic as it is. */
static size_t padding(size_t pos, const layout *lay, int opt, size_t size) {
    if (size == 0 || opt == 'c') return 0;
    if (size > (size_t)lay->max_align) size = (size_t)lay->max_align;
    return (size - (pos & (size - 1))) & (size - 1);
}

/* Endianness, alignment and spaces; anything else is an invalid option. */
static void apply_control(lua_State *L, int opt, const char **fmt, layout *lay) {
    switch (opt) {
    case ' ': return;
    case '>': lay->big_endian = 1; return;
    case '<': lay->big_endian = 0; return;
    case '!': {
        int align = read_number(L, fmt, DEFAULT_MAX_ALIGN);
        if (align <= 0 || (align & (align - 1)) != 0) {
            luaL_error(L, "alignment %d is not a power of 2", align);
        }
        lay->max_align = align;
        return;
    }
    default:
        luaL_argerror(L, 1, lua_pushfstring(L, "invalid format option '%c'", opt));
    }
}

/* x86-64's truncating conversion: NaN and out-of-range values give INT64_MIN. */
static int64_t truncate_to_int64(double d) {
    if (d >= -0x1p63 && d < 0x1p63) return (int64_t)d;
    return INT64_MIN;
}

/* The reference's double -> unsigned long conversion as gcc compiles it for x86-64, for
 * any double (so 2^64 and inf give 0, NaN gives 2^63). */
static uint64_t truncate_to_uint64(double d) {
    if (!(d >= 0x1p63)) return (uint64_t)truncate_to_int64(d);
    return (uint64_t)truncate_to_int64(d - 0x1p63) ^ (UINT64_C(1) << 63);
}

/* `size` bytes of native (little-endian) `bytes` in the layout's order. */
static void add_ordered(luaL_Buffer *b, const unsigned char *bytes, size_t size, int big_endian) {
    for (size_t i = 0; i < size; i++) luaL_addchar(b, (char)bytes[big_endian ? size - 1 - i : i]);
}

static void add_integer(lua_State *L, luaL_Buffer *b, int arg, int big_endian, size_t size) {
    uint64_t value = truncate_to_uint64(luaL_checknumber(L, arg));
    unsigned char bytes[MAX_INT_SIZE]; /* little-endian; past 8 bytes, zeros */
    for (size_t i = 0; i < size; i++) {
        bytes[i] = (unsigned char)value;
        value >>= 8;
    }
    add_ordered(b, bytes, size, big_endian);
}

/* struct.pack(fmt, ...): the values laid out as fmt says. */
static int struct_pack(lua_State *L) {
    const char *fmt = luaL_checkstring(L, 1);
    layout lay = initial_layout;
    int arg = 2;
    size_t total = 0;
    luaL_Buffer b;
    /* Keeps the buffer's pieces apart from the arguments: a missing argument reads as nil. */
    lua_pushnil(L);
    luaL_buffinit(L, &b);
    while (*fmt) {
        int opt = (unsigned char)*fmt++;
        size_t size = option_size(L, opt, &fmt);
        size_t pad = padding(total, &lay, opt, size);
        total += pad;
        for (; pad > 0; pad--) luaL_addchar(&b, '\0');
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
            add_integer(L, &b, arg++, lay.big_endian, size);
            break;
        case 'x':
            luaL_addchar(&b, '\0');
            break;
        case 'f': {
            float f = (float)luaL_checknumber(L, arg++);
            add_ordered(&b, (const unsigned char *)&f, sizeof f, lay.big_endian);
            break;
        }
        case 'd': {
            double d = luaL_checknumber(L, arg++);
            add_ordered(&b, (const unsigned char *)&d, sizeof d, lay.big_endian);
            break;
        }
        case 'c': case 's': {
            size_t len;
            const char *s = luaL_checklstring(L, arg++, &len);
            if (size == 0) size = len;
            /* The reference names the argument after the string. */
            luaL_argcheck(L, len >= size, arg, "string too short");
            luaL_addlstring(&b, s, size);
            if (opt == 's') {
                luaL_addchar(&b, '\0');
                size++;
            }
            break;
        }
        default:
            apply_control(L, opt, &fmt, &lay);
        }
        total += size;
    }
    luaL_pushresult(&b);
    return 1;
}

/* An integer of `size` bytes, sign-extended from its top bit when signed. Past 8 bytes only
 * the last 8 count, and the sign bit is taken at (size*8-1) mod 64, as x86 shifts. */
static lua_Number read_integer(const unsigned char *bytes, int big_endian, int is_signed, size_t size) {
    uint64_t value = 0;
    for (size_t i = 0; i < size; i++) value = (value << 8) | bytes[big_endian ? i : size - 1 - i];
    if (!is_signed) return (lua_Number)value;
    uint64_t sign = ~UINT64_C(0) << ((size * 8 - 1) & 63);
    if (value & sign) value |= sign;
    return (lua_Number)(int64_t)value;
}

/* A float (size 4) or a double (size 8). */
static lua_Number read_floating(const char *data, size_t size, int big_endian) {
    unsigned char native[sizeof(double)];
    for (size_t i = 0; i < size; i++) native[i] = (unsigned char)data[big_endian ? size - 1 - i : i];
    if (size == sizeof(float)) {
        float f;
        memcpy(&f, native, sizeof f);
        return f;
    }
    double d;
    memcpy(&d, native, sizeof d);
    return d;
}

/* struct.unpack(fmt, s [, pos]): the values, then the position after them. */
static int struct_unpack(lua_State *L) {
    const char *fmt = luaL_checkstring(L, 1);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    /* As size_t, like the reference: a negative position passes this check and then finds
     * the data too short. */
    size_t pos = (size_t)luaL_optinteger(L, 3, 1);
    luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
    pos--;
    int results = 0;
    layout lay = initial_layout;
    while (*fmt) {
        int opt = (unsigned char)*fmt++;
        size_t size = option_size(L, opt, &fmt);
        pos += padding(pos, &lay, opt, size);
        luaL_argcheck(L, size <= len && pos <= len - size, 2, "data string too short");
        luaL_checkstack(L, 2, "too many results");
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I': {
            int is_signed = opt >= 'a';
            lua_pushnumber(L, read_integer((const unsigned char *)data + pos, lay.big_endian, is_signed, size));
            results++;
            break;
        }
        case 'x':
            break;
        case 'f': case 'd':
            lua_pushnumber(L, read_floating(data + pos, size, lay.big_endian));
            results++;
            break;
        case 'c':
            if (size == 0) {
                if (results == 0 || !lua_isnumber(L, -1)) luaL_error(L, "format 'c0' needs a previous size");
                size = (size_t)truncate_to_uint64(lua_tonumber(L, -1));
                lua_pop(L, 1);
                results--;
                luaL_argcheck(L, size <= len && pos <= len - size, 2, "data string too short");
            }
            lua_pushlstring(L, data + pos, size);
            results++;
            break;
        case 's': {
            const char *end = memchr(data + pos, '\0', len - pos);
            if (end == NULL) luaL_error(L, "unfinished string in data");
            size = (size_t)(end - (data + pos)) + 1;
            lua_pushlstring(L, data + pos, size - 1);
            results++;
            break;
        }
        default:
            apply_control(L, opt, &fmt, &lay);
        }
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)(pos + 1));
    return results + 1;
}

/* struct.size(fmt): the bytes fmt packs to. Unknown letters and digits count as nothing. */
static int struct_size(lua_State *L) {
    const char *fmt = luaL_checkstring(L, 1);
    layout lay = initial_layout;
    size_t pos = 0;
    while (*fmt) {
        int opt = (unsigned char)*fmt++;
        size_t size = option_size(L, opt, &fmt);
        pos += padding(pos, &lay, opt, size);
        if (opt == 's') luaL_argerror(L, 1, "option 's' has no fixed size");
        else if (opt == 'c' && size == 0) luaL_argerror(L, 1, "option 'c0' has no fixed size");
        if (!is_alnum(opt)) apply_control(L, opt, &fmt, &lay);
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos);
    return 1;
}

int luaopen_struct(lua_State *L) {
    static const luaL_Reg functions[] = {
        {"pack", struct_pack}, {"unpack", struct_unpack}, {"size", struct_size}, {NULL, NULL},
    };
    /* Sized as luaL_register sizes it, so pairs() walks the fields in the reference's order. */
    lua_createtable(L, 0, 3);
    luaL_register(L, NULL, functions);
    return 1;
}
