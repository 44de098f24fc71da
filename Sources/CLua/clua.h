/* The system's Lua 5.1 (Debian liblua5.1-0-dev) with cjson and bit (lua-cjson-dev, lua-bitop-dev). */
#include <lua5.1/lua.h>
#include <lua5.1/lauxlib.h>
#include <lua5.1/lualib.h>
#include <lua5.1/lua-cjson.h>
#include <lua5.1/lua-bitop.h>
