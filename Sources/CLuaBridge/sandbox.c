/* The C half of the script sandbox (see CLuaBridge.h and LuaSandbox.swift).
 *
 * Redis 7.0 patches its Lua to flag tables read-only. With the system's Lua we get the same
 * behaviour from proxies: an empty table whose metatable reads through to the real one and
 * refuses writes. The functions here make the built-ins that bypass metatables (rawset,
 * setmetatable, next, table.insert, ...) treat a proxy as the read-only table it stands for.
 * They are C functions, so errors they raise carry the positions Redis's do. */
#include "CLuaBridge.h"

#include <lua5.1/lauxlib.h>

/* Upvalues of the wrappers. */
#define WRAPPED lua_upvalueindex(1)
#define PROXIES lua_upvalueindex(2)
#define APPARENT lua_upvalueindex(3)

static const char *readonly_message = "Attempt to modify a readonly table";

/* Replaces the table at `arg` by the table it is a proxy for; returns whether it was one. */
static int unwrap_proxy(lua_State *L, int arg, int proxies) {
    if (lua_type(L, arg) != LUA_TTABLE) return 0;
    lua_pushvalue(L, arg);
    lua_rawget(L, proxies);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    lua_replace(L, arg);
    return 1;
}

static lua_CFunction wrapped_function(lua_State *L) { return lua_tocfunction(L, WRAPPED); }

/* `__newindex` of every proxy; the position is the script line doing the assignment. */
static int refuse_write(lua_State *L) { return luaL_error(L, "%s", readonly_message); }

/* `__index` of the globals: reading an undefined global is an error, as in Redis. */
static int missing_global(lua_State *L) {
    if (lua_gettop(L) != 2) return luaL_error(L, "Wrong number of arguments to luaProtectedTableError");
    if (!lua_isstring(L, -1) && !lua_isnumber(L, -1)) {
        return luaL_error(L, "Second argument to luaProtectedTableError must be a string or number");
    }
    return luaL_error(L, "Script attempted to access nonexistent global variable '%s'", lua_tostring(L, -1));
}

/* A reader (next, rawget, table.concat, ...) called on the real table behind a proxy. The
 * wrapped function runs in this frame, so its argument errors name it as Redis's would. */
static int see_through(lua_State *L) {
    unwrap_proxy(L, 1, PROXIES);
    return wrapped_function(L)(L);
}

/* A writer (rawset, setmetatable, table.insert, ...) that refuses read-only tables. */
static int write_guard(lua_State *L) {
    lua_pushvalue(L, 1);
    lua_rawget(L, PROXIES);
    if (!lua_isnil(L, -1)) {
        /* No position: Redis raises this from inside the C function. */
        lua_pushstring(L, readonly_message);
        return lua_error(L);
    }
    lua_pop(L, 1);
    return wrapped_function(L)(L);
}

/* pairs(t): the proxy-aware `next` (upvalue 1), t, nil. */
static int pairs(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushvalue(L, WRAPPED);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* getmetatable: what Redis shows. A proxy shows its apparent metatable (nil for a library,
 * the read-only error metatable for the globals); a value whose metatable has an apparent
 * stand-in (the strings') shows that; anything else shows what Lua's getmetatable does. */
static int getmetatable_apparent(lua_State *L) {
    luaL_checkany(L, 1);
    lua_settop(L, 1);
    if (lua_type(L, 1) == LUA_TTABLE) {
        lua_pushvalue(L, 1);
        lua_rawget(L, PROXIES);
        if (!lua_isnil(L, -1)) {
            lua_pushvalue(L, 1);
            lua_rawget(L, APPARENT);
            return 1;
        }
        lua_pop(L, 1);
    }
    wrapped_function(L)(L);
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_pushvalue(L, -1);
        lua_rawget(L, APPARENT);
        if (!lua_isnil(L, -1)) return 1;
        lua_pop(L, 1);
    }
    return 1;
}

/* kit.see_through(f), kit.write_guard(f), kit.pairs(next), kit.getmetatable(f): wrap `f`
 * in a closure sharing the kit's proxies and apparent metatables. `f` must be a built-in,
 * not a wrapper: the wrappers run the C function of `f` in their own frame. */
static int make_wrapper(lua_State *L) {
    lua_CFunction kind = lua_tocfunction(L, lua_upvalueindex(1));
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_settop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_pushvalue(L, lua_upvalueindex(3));
    lua_pushcclosure(L, kind, 3);
    return 1;
}

void atoll_lua_push_sandbox_kit(lua_State *L) {
    static const struct { const char *name; lua_CFunction kind; } wrappers[] = {
        {"see_through", see_through}, {"write_guard", write_guard},
        {"pairs", pairs}, {"getmetatable", getmetatable_apparent},
    };
    lua_createtable(L, 0, 8);
    for (int i = 0; i < 2; i++) {
        /* Weak keys: a proxy (or metatable) that goes away takes its entry with it. */
        lua_newtable(L);
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        lua_setfield(L, -2, i == 0 ? "proxies" : "apparent");
    }
    for (size_t i = 0; i < sizeof wrappers / sizeof wrappers[0]; i++) {
        lua_pushcfunction(L, wrappers[i].kind);
        lua_getfield(L, -2, "proxies");
        lua_getfield(L, -3, "apparent");
        lua_pushcclosure(L, make_wrapper, 3);
        lua_setfield(L, -2, wrappers[i].name);
    }
    lua_pushcfunction(L, refuse_write);
    lua_setfield(L, -2, "refuse_write");
    lua_pushcfunction(L, missing_global);
    lua_setfield(L, -2, "missing_global");
    lua_pushcfunction(L, atoll_lua_text_loaders);
    lua_setfield(L, -2, "text_loaders");
}
