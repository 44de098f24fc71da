/* See CLuaBridge.h. */
#include "CLuaBridge.h"
#include "script_libraries.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <lua5.1/lauxlib.h>
#include <lua5.1/lualib.h>
#include <lua5.1/lua-cjson.h>
#include <lua5.1/lua-bitop.h>

typedef struct {
    size_t used;
    size_t limit;
    /* Only while Lua code runs: Swift callbacks must never see an allocation error. */
    int enforce;
    /* The host's object for this state (atoll_lua_set_context). */
    void *context;
    /* Set once the hook has aborted the running script (SCRIPT KILL, shutdown, a load
     * timeout): from then on pcall, xpcall and coroutine.resume pass the error on, and every
     * later hook call raises it again, so that a script cannot survive its kill. Cleared when
     * the hook is armed. */
    int killed;
    /* Whether the count hook is installed, so that atoll_lua_poll may run its check. Kept
     * here rather than read with lua_gethook: a coroutine carries the hook it was created
     * with, and one kept from an earlier call may have none. */
    int armed;
} atoll_heap;

static atoll_heap *heap_of(lua_State *L) {
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

/* Where the error that killed the script is kept, to be raised again. */
static const char *const kill_error_key = "atoll.kill_error";

/* Raises the kill error again (the one saved by the hook). */
static int raise_kill(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, kill_error_key);
    return lua_error(L);
}

int atoll_lua_killed(lua_State *L) { return heap_of(L)->killed; }

void atoll_lua_push_kill_error(lua_State *L) { lua_getfield(L, LUA_REGISTRYINDEX, kill_error_key); }

static void *atoll_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    atoll_heap *heap = ud;
    if (nsize == 0) {
        free(ptr);
        heap->used -= osize;
        return NULL;
    }
    if (heap->enforce && heap->limit && nsize > osize && heap->used + (nsize - osize) > heap->limit) {
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p) heap->used = heap->used - osize + nsize;
    return p;
}

lua_State *atoll_lua_open(void) {
    atoll_heap *heap = calloc(1, sizeof(atoll_heap));
    if (!heap) return NULL;
    lua_State *L = lua_newstate(atoll_alloc, heap);
    if (!L) free(heap);
    return L;
}

void atoll_lua_close(lua_State *L) {
    atoll_heap *heap = heap_of(L);
    lua_close(L);
    free(heap);
}

size_t atoll_lua_memory_used(lua_State *L) { return heap_of(L)->used; }

void atoll_lua_set_memory_limit(lua_State *L, size_t limit) { heap_of(L)->limit = limit; }

void atoll_lua_set_context(lua_State *L, void *context) { heap_of(L)->context = context; }

void *atoll_lua_context(lua_State *L) { return heap_of(L)->context; }

/* ---- Redis's math.random: the 48-bit linear congruential generator of lrand48, with the
 * same initial state, so that a seeded script draws the same numbers as under Redis. ---- */

/* One generator for the process, as in Redis (atomic: servers embedded side by side may run
 * scripts at the same time). */
static _Atomic uint64_t rand48_state = 0x1234ABCD330EULL;

static int32_t rand48_next(void) {
    uint64_t next = (0x5DEECE66DULL * rand48_state + 0xB) & 0xFFFFFFFFFFFFULL;
    rand48_state = next;
    return (int32_t)(next >> 17);
}

static int math_random(lua_State *L) {
    /* Drawn before the arguments are checked, as Redis does. */
    lua_Number r = (lua_Number)(rand48_next() % INT32_MAX) / (lua_Number)INT32_MAX;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, r);
        break;
    case 1: {
        int upper = luaL_checkint(L, 1);
        luaL_argcheck(L, 1 <= upper, 1, "interval is empty");
        lua_pushnumber(L, floor(r * upper) + 1);
        break;
    }
    case 2: {
        int lower = luaL_checkint(L, 1);
        int upper = luaL_checkint(L, 2);
        luaL_argcheck(L, lower <= upper, 2, "interval is empty");
        lua_pushnumber(L, floor(r * (upper - lower + 1)) + lower);
        break;
    }
    default:
        return luaL_error(L, "wrong number of arguments");
    }
    return 1;
}

static int math_randomseed(lua_State *L) {
    int32_t seed = luaL_checkint(L, 1);
    rand48_state = ((uint64_t)(uint32_t)seed << 16) | 0x330E;
    return 0;
}

/* Redis 7's pcall: errors are tables {err=...} there, but pcall hands scripts the message
 * string, as older versions did. Anything else a failed call raised is returned as is. */
static int compat_pcall(lua_State *L) {
    int argc = lua_gettop(L);
    lua_pushboolean(L, 1);
    lua_insert(L, 1);
    if (lua_pcall(L, argc - 1, LUA_MULTRET, 0) != 0) {
        if (heap_of(L)->killed) return lua_error(L);
        lua_remove(L, 1);
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "err");
            /* Without a message the nil stays: Redis then returns it as a third value. */
            if (lua_isstring(L, -1)) lua_replace(L, -2);
        }
        lua_pushboolean(L, 0);
        lua_insert(L, 1);
    }
    return lua_gettop(L);
}

/* The message handler xpcall installs around the script's own (upvalue 1). An error raised
 * by the hook reaches the handler while Lua runs no hooks (until the error is caught), so a
 * script's handler that looped then could never be stopped: after a kill it is skipped. */
static int xpcall_handler(lua_State *L) {
    if (heap_of(L)->killed) return 1;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* xpcall(f, handler), which a killed script cannot use to survive either. */
static int guarded_xpcall(lua_State *L) {
    luaL_checkany(L, 2);
    lua_settop(L, 2);
    lua_pushcclosure(L, xpcall_handler, 1);
    lua_insert(L, 1);
    int status = lua_pcall(L, 0, LUA_MULTRET, 1);
    if (status != 0 && heap_of(L)->killed) return lua_error(L);
    lua_pushboolean(L, status == 0);
    lua_replace(L, 1);
    return lua_gettop(L);
}

/* coroutine.resume, whose original is upvalue 1: a coroutine that died of the kill passes it
 * on at once instead of returning it to a caller that may loop (with coroutines nested a few
 * deep, waiting for each caller's own next hook call took hours). The original is called as
 * a plain C function in this same call frame, not through lua_call, so that its argument
 * errors name 'resume' and the script's line exactly as before. */
static int guarded_resume(lua_State *L) {
    lua_CFunction original = lua_tocfunction(L, lua_upvalueindex(1));
    int results = original(L);
    if (heap_of(L)->killed && lua_gettop(L) >= results && !lua_toboolean(L, -results)) return raise_kill(L);
    return results;
}

static void replace_redis_functions(lua_State *L) {
    lua_pushcfunction(L, compat_pcall);
    lua_setglobal(L, "pcall");
    lua_pushcfunction(L, guarded_xpcall);
    lua_setglobal(L, "xpcall");
    lua_getglobal(L, LUA_COLIBNAME);
    lua_getfield(L, -1, "resume");
    lua_pushcclosure(L, guarded_resume, 1);
    lua_setfield(L, -2, "resume");
    lua_pop(L, 1);
    /* Pattern functions that SCRIPT KILL can stop (patterns.c). */
    lua_getglobal(L, LUA_STRLIBNAME);
    atoll_lua_open_patterns(L);
    lua_pop(L, 1);
    lua_getglobal(L, LUA_MATHLIBNAME);
    lua_pushcfunction(L, math_random);
    lua_setfield(L, -2, "random");
    lua_pushcfunction(L, math_randomseed);
    lua_setfield(L, -2, "randomseed");
    lua_pop(L, 1);
}

static int open_all(lua_State *L) {
    static const luaL_Reg libs[] = {
        {"", luaopen_base}, {LUA_TABLIBNAME, luaopen_table}, {LUA_STRLIBNAME, luaopen_string},
        {LUA_MATHLIBNAME, luaopen_math}, {LUA_DBLIBNAME, luaopen_debug},
        {"cjson", luaopen_cjson}, {"struct", luaopen_struct}, {"cmsgpack", luaopen_cmsgpack},
        {"bit", luaopen_bit}, {NULL, NULL},
    };
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        lua_pushcfunction(L, lib->func);
        lua_pushstring(L, lib->name);
        lua_call(L, 1, 1);
        /* Some libraries (cjson) only return their table; make each one a global. */
        if (lib->name[0] && lua_istable(L, -1)) {
            lua_setglobal(L, lib->name);
        } else {
            lua_pop(L, 1);
        }
    }
    replace_redis_functions(L);
    return 0;
}

int atoll_lua_open_libraries(lua_State *L) {
    lua_pushcfunction(L, open_all);
    return lua_pcall(L, 0, 0, 0);
}

static atoll_lua_callback host_callback;

void atoll_lua_set_callback(atoll_lua_callback callback) { host_callback = callback; }

static int host_trampoline(lua_State *L) {
    atoll_heap *heap = heap_of(L);
    int enforced = heap->enforce;
    heap->enforce = 0;
    int results = host_callback(L, (int)lua_tointeger(L, lua_upvalueindex(1)));
    heap->enforce = enforced;
    if (results < 0) return lua_error(L);
    return results;
}

void atoll_lua_push_host_function(lua_State *L, int function_id) {
    lua_pushinteger(L, function_id);
    lua_pushcclosure(L, host_trampoline, 1);
}

static atoll_lua_hook count_hook;

/* Runs the host's check; when it asks to abort, marks the state killed, keeps the error
 * to raise again, and raises it. */
static void run_count_hook(lua_State *L, atoll_heap *heap) {
    int enforced = heap->enforce;
    heap->enforce = 0;
    int abort = count_hook(L);
    if (abort) {
        heap->killed = 1;
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, kill_error_key);
    }
    heap->enforce = enforced;
    if (abort) lua_error(L);
}

static void hook_trampoline(lua_State *L, lua_Debug *ar) {
    (void)ar;
    atoll_heap *heap = heap_of(L);
    /* Killed, yet still running: something caught the error (an error handler that loops, a
     * metamethod run while the error is rendered). Raise it again. */
    if (heap->killed) raise_kill(L);
    run_count_hook(L, heap);
}

void atoll_lua_poll(lua_State *L) {
    atoll_heap *heap = heap_of(L);
    if (heap->killed) raise_kill(L);
    /* The check pushes an error table; without room for it, the next poll checks. */
    if (!heap->armed || !lua_checkstack(L, 4)) return;
    run_count_hook(L, heap);
}

void atoll_lua_set_hook(lua_State *L, atoll_lua_hook hook, int count) {
    count_hook = hook;
    if (count > 0) heap_of(L)->killed = 0;
    heap_of(L)->armed = count > 0;
    lua_sethook(L, count > 0 ? hook_trampoline : NULL, count > 0 ? LUA_MASKCOUNT : 0, count);
}

int atoll_lua_pcall(lua_State *L, int nargs, int nresults, int errfunc) {
    atoll_heap *heap = heap_of(L);
    heap->enforce = 1;
    int status = lua_pcall(L, nargs, nresults, errfunc);
    heap->enforce = 0;
    return status;
}

int atoll_lua_load(lua_State *L, const char *code, size_t length, const char *chunkname) {
    atoll_heap *heap = heap_of(L);
    heap->enforce = 1;
    int status = atoll_lua_load_text(L, code, length, chunkname);
    heap->enforce = 0;
    return status;
}

int atoll_format_number(double value, char *buffer, int size) {
    return snprintf(buffer, (size_t)size, "%.17g", value);
}

static int error_fields(lua_State *L) {
    static const char *const names[] = {"err", "source", "line"};
    for (int i = 0; i < 3; i++) {
        lua_getfield(L, 1, names[i]);
        if (lua_isstring(L, -1)) {
            lua_tostring(L, -1);
        } else {
            lua_pop(L, 1);
            lua_pushnil(L);
        }
    }
    return 3;
}

int atoll_lua_error_fields(lua_State *L) {
    lua_pushcfunction(L, error_fields);
    lua_insert(L, -2);
    if (lua_pcall(L, 1, 3, 0) == 0) return 0;
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_pushnil(L);
    lua_pushnil(L);
    return 1;
}
