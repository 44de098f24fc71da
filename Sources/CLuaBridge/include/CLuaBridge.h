/* Atoll's C side of the Lua bridge.
 *
 * lua_error() longjmps. It must never unwind through Swift frames, so Swift code is only
 * ever called from the C functions here, and reports failure by returning a status; these
 * functions then raise the Lua error themselves once Swift has returned. */
#ifndef ATOLL_LUA_BRIDGE_H
#define ATOLL_LUA_BRIDGE_H

#include <stddef.h>
#include <lua5.1/lua.h>

/* Called for every Lua-visible function the host registers (redis.call, ...). Returns the
 * number of results pushed, or -1 with the error value on top of the stack. */
typedef int (*atoll_lua_callback)(lua_State *L, int function_id);

/* Called from the instruction-count hook. Returns 0 to go on, or 1 with an error value on
 * top of the stack to abort the running script. */
typedef int (*atoll_lua_hook)(lua_State *L);

/* A new state whose allocator counts bytes in use and, while enforcement is on, refuses to
 * grow past the limit (0: none). */
lua_State *atoll_lua_open(void);
void atoll_lua_close(lua_State *L);
size_t atoll_lua_memory_used(lua_State *L);
void atoll_lua_set_memory_limit(lua_State *L, size_t limit);
/* A pointer the host keeps with the state (its engine), found again from any of its threads. */
void atoll_lua_set_context(lua_State *L, void *context);
void *atoll_lua_context(lua_State *L);

/* Opens base, table, string, math, debug, cjson and bit, and replaces what Redis replaces:
 * `pcall` (hands scripts the message of an error table) and `math.random`/`math.randomseed`
 * (Redis's own generator); `xpcall` and `coroutine.resume` are wrapped too, so that a killed
 * script cannot catch its kill, and string.find, match, gmatch (and gfind) and gsub are
 * replaced by a matcher that polls the hook's check (patterns.c). Returns 0 on success. */
int atoll_lua_open_libraries(lua_State *L);

void atoll_lua_set_callback(atoll_lua_callback callback);
/* Pushes a C closure that calls the callback with `function_id`. */
void atoll_lua_push_host_function(lua_State *L, int function_id);

/* Installs (count > 0) or removes (count == 0) the instruction-count hook. Installing it
 * clears the killed state. Once the hook aborts a script, the state is killed: pcall, xpcall
 * and coroutine.resume pass the error on instead of catching it, and every later hook call
 * raises it again (in any coroutine), until the hook is installed anew for the next script. */
void atoll_lua_set_hook(lua_State *L, atoll_lua_hook hook, int count);
/* The hook's check for long C calls (the pattern matcher in patterns.c), called every few
 * thousand steps: raises the kill error if the script was killed already; otherwise, while
 * the hook is installed, runs the same check as the hook and, when it aborts, kills the
 * state and raises the error exactly as the hook does. Returns when the call may go on. The
 * caller must hold no memory that the raised error would leak. */
void atoll_lua_poll(lua_State *L);
/* Whether the hook has aborted the running script, and the error it raised. */
int atoll_lua_killed(lua_State *L);
void atoll_lua_push_kill_error(lua_State *L);

/* Pushes the sandbox kit (sandbox.c): tables `proxies` (read-only proxy -> real table) and
 * `apparent` (proxy or metatable -> the metatable getmetatable shows), the metamethods
 * `refuse_write` and `missing_global`, and wrapper factories `see_through(f)` (f reads the
 * table behind a proxy), `write_guard(f)` (f refuses proxies), `pairs(next)` and
 * `getmetatable(f)`. */
void atoll_lua_push_sandbox_kit(lua_State *L);

/* lua_pcall with the memory limit enforced while Lua code runs. */
int atoll_lua_pcall(lua_State *L, int nargs, int nresults, int errfunc);

/* luaL_loadbuffer, under the memory limit, for source text only (see textload.c). */
int atoll_lua_load(lua_State *L, const char *code, size_t length, const char *chunkname);

/* luaL_loadbuffer for source text only: a chunk starting with ESC fails to compile instead
 * of loading as bytecode (textload.c). */
int atoll_lua_load_text(lua_State *L, const char *code, size_t length, const char *chunkname);

/* kit.text_loaders([env]) (textload.c). */
int atoll_lua_text_loaders(lua_State *L);

/* Formats a Lua number as Redis passes numeric arguments to commands ("%.17g"). */
int atoll_format_number(double value, char *buffer, int size);

/* Replaces the error table on top of the stack by its fields err, source and line (each a
 * string, numbers converted, or nil), read with lua_getfield as Redis does but protected:
 * a failing __index metamethod gives three nils and a non-zero result. */
int atoll_lua_error_fields(lua_State *L);

#endif
