/* The libraries Redis 7.0 embeds in its Lua and the system has no package for; each
 * luaopen function leaves the library's table on the stack. */
#ifndef ATOLL_SCRIPT_LIBRARIES_H
#define ATOLL_SCRIPT_LIBRARIES_H

#include <lua5.1/lua.h>

/* MessagePack: pack, unpack, unpack_one, unpack_limit (msgpack.c). */
int luaopen_cmsgpack(lua_State *L);

/* Binary structures: pack, unpack, size (struct.c). */
int luaopen_struct(lua_State *L);

/* Replaces find, match, gmatch (and gfind, when it names gmatch) and gsub in the string
 * library table on top of the stack by patterns.c's interruptible ones. */
void atoll_lua_open_patterns(lua_State *L);

#endif
