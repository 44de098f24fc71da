/* Loading Lua chunks as source text only.
 *
 * The system's Lua 5.1 loads a chunk that starts with ESC (LUA_SIGNATURE) as precompiled
 * bytecode, and crafted bytecode can break out of any sandbox (CVE-2015-4335). Redis's Lua
 * parses every chunk as text instead, so such a chunk fails to compile with
 * "unexpected symbol near 'char(27)'" on line 1. The readers here do the same with the stock
 * library: when a chunk starts with ESC they hand Lua one space first, which makes it choose
 * the text parser; the space changes no line number, and the parser fails on the ESC. */
#include "CLuaBridge.h"

#include <lua5.1/lauxlib.h>

/* A chunk in memory, handed to Lua in at most two pieces: the space, then the chunk. */
typedef struct {
    const char *data;
    size_t size;
    int step;
} memory_chunk;

static const char *read_memory_chunk(lua_State *L, void *ud, size_t *size) {
    memory_chunk *chunk = ud;
    (void)L;
    switch (chunk->step++) {
    case 0:
        if (chunk->size > 0 && chunk->data[0] == LUA_SIGNATURE[0]) {
            *size = 1;
            return " ";
        }
        chunk->step++;
        /* fall through */
    case 1:
        *size = chunk->size;
        return chunk->data;
    default:
        return NULL;
    }
}

int atoll_lua_load_text(lua_State *L, const char *code, size_t length, const char *chunkname) {
    memory_chunk chunk = {code, length, 0};
    return lua_load(L, read_memory_chunk, &chunk, chunkname);
}

/* Upvalue of the loaders made for Functions: the environment their chunks get. Without it a
 * chunk gets the state's globals, as with Lua's own loaders. */
#define CHUNK_ENV lua_upvalueindex(1)

/* What Lua's loaders return: the chunk, or nil and the message. */
static int loaded(lua_State *L, int status) {
    if (status != 0) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    if (lua_istable(L, CHUNK_ENV)) {
        lua_pushvalue(L, CHUNK_ENV);
        lua_setfenv(L, -2);
    }
    return 1;
}

/* loadstring(text [, chunkname]) */
static int text_loadstring(lua_State *L) {
    size_t length;
    const char *code = luaL_checklstring(L, 1, &length);
    const char *chunkname = luaL_optstring(L, 2, code);
    return loaded(L, atoll_lua_load_text(L, code, length, chunkname));
}

/* load(reader [, chunkname]): the reader is at index 1; the piece it last returned is kept
 * at index 3 while Lua reads it. */
typedef struct {
    int first;
    int piece_pending;
} function_chunk;

static const char *read_function_chunk(lua_State *L, void *ud, size_t *size) {
    function_chunk *chunk = ud;
    if (chunk->piece_pending) {
        chunk->piece_pending = 0;
        return lua_tolstring(L, 3, size);
    }
    luaL_checkstack(L, 2, "too many nested functions");
    lua_pushvalue(L, 1);
    lua_call(L, 0, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        *size = 0;
        return NULL;
    }
    if (!lua_isstring(L, -1)) {
        luaL_error(L, "reader function must return a string");
        return NULL;
    }
    lua_replace(L, 3);
    const char *piece = lua_tolstring(L, 3, size);
    if (chunk->first) {
        chunk->first = 0;
        if (*size > 0 && piece[0] == LUA_SIGNATURE[0]) {
            chunk->piece_pending = 1;
            *size = 1;
            return " ";
        }
    }
    return piece;
}

static int text_load(lua_State *L) {
    const char *chunkname = luaL_optstring(L, 2, "=(load)");
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_settop(L, 3);
    /* The parser makes the chunk name a Lua string that nothing holds until its function
     * exists, and the reader runs Lua code (a collection) in between: the string would be
     * freed while in use (CVE-2025-49844). Held at index 4 it stays alive. */
    lua_pushstring(L, chunkname);
    chunkname = lua_tostring(L, 4);
    function_chunk chunk = {1, 0};
    return loaded(L, lua_load(L, read_function_chunk, &chunk, chunkname));
}

/* kit.text_loaders([env]): loadstring and load reading text only, their chunks getting
 * `env` when it is given. */
int atoll_lua_text_loaders(lua_State *L) {
    int upvalues = lua_istable(L, 1) ? 1 : 0;
    if (upvalues) lua_pushvalue(L, 1);
    lua_pushcclosure(L, text_loadstring, upvalues);
    if (upvalues) lua_pushvalue(L, 1);
    lua_pushcclosure(L, text_load, upvalues);
    return 2;
}
