/* Lua 5.1's string pattern functions (string.find, string.match, string.gmatch, and
 * string.gsub), written for Atoll from the Lua 5.1 manual's pattern rules, with the same
 * results, quirks and error texts as Lua 5.1.5's (the Lua Redis 7.0 embeds).
 *
 * Why our own: Lua's matcher runs entirely inside one C call, where the instruction-count
 * hook never fires, so a pathological pattern (exponential backtracking, or a quadratic
 * search over a long subject) could not be stopped by SCRIPT KILL, the FUNCTION LOAD
 * timeout or shutdown. This matcher counts its work and every POLL_INTERVAL steps calls
 * atoll_lua_poll (bridge.c), which runs the hook's check and raises the kill error when the
 * script must stop. Raising from inside is safe: the matcher holds no malloc'd memory, only
 * C locals and Lua stack values (gsub's luaL_Buffer).
 *
 * Entry point: atoll_lua_open_patterns, which bridge.c calls on the string table before the
 * sandbox makes it read-only, so scripts, functions and the ("s"):find(...) method form
 * (the string metatable's __index is that table) all use these functions.
 *
 * Invariants that Lua 5.1 relies on and so do we:
 * - A pattern ends at its first NUL byte (only find's plain search sees the whole pattern);
 *   %z matches a NUL in the subject.
 * - Subjects are Lua strings, so the byte at `end` is a readable NUL: %f and %b read it at
 *   the end of the subject, as Lua does. */
#include "CLuaBridge.h"
#include "script_libraries.h"

#include <stddef.h>
#include <string.h>
#include <lua5.1/lauxlib.h>

enum {
    /* LUA_MAXCAPTURES in Lua 5.1's luaconf.h. */
    MAX_CAPTURES = 32,
    /* Steps (matcher calls, or a few bytes scanned) between two polls: a poll is a call into
     * Swift, so this keeps it far below 1% of the matcher's time while a kill still lands
     * well within a millisecond. */
    POLL_INTERVAL = 4096,
    /* Nesting of the recursive matcher: one level per quantified item or capture in the
     * pattern. Lua 5.1 has no limit and would overflow the C stack instead (the script
     * thread has the default 8 MB); we fail the call first, with Lua 5.2's message
     * "pattern too complex". 20000 levels of every kind were checked to fit. */
    MAX_DEPTH = 20000,
};

/* A capture's length while it is still open, and the length that marks a position capture. */
#define CAP_OPEN ((ptrdiff_t)-1)
#define CAP_POSITION ((ptrdiff_t)-2)

/* The characters that make find treat its pattern as a pattern rather than plain text. */
#define SPECIALS "^$*+?.([%-"

typedef struct {
    const char *start;
    const char *end;
    lua_State *L;
    /* Steps left before the next poll. */
    ptrdiff_t budget;
    int depth;
    /* Captures opened so far (closed or not). */
    int level;
    struct {
        const char *at;
        ptrdiff_t len;
    } cap[MAX_CAPTURES];
} matcher;

static void matcher_init(matcher *m, lua_State *L, const char *subject, size_t length) {
    m->start = subject;
    m->end = subject + length;
    m->L = L;
    m->budget = POLL_INTERVAL;
    m->depth = 0;
    m->level = 0;
}

/* Charges `cost` steps; when the budget runs out, lets the host stop the script. */
static inline void spend(matcher *m, ptrdiff_t cost) {
    m->budget -= cost;
    if (m->budget < 0) {
        m->budget = POLL_INTERVAL;
        atoll_lua_poll(m->L);
    }
}

// MARK: - single-character items

/* The classes of each byte as the C library's ctype has them in the C locale, which is the
 * locale Redis runs its Lua in (it sets only LC_COLLATE): Lua 5.1 asks ctype, and a table
 * gives the same answers without a call per byte, whatever this process's locale is. */
enum {
    CTRL = 1, SPACE = 2, PUNCT = 4, DIGIT = 8, HEX = 16, UPPER = 32, LOWER = 64, NUL = 128,
};

static const unsigned char byte_classes[256] = {
    [0] = CTRL | NUL, [1 ... 8] = CTRL, [9 ... 13] = CTRL | SPACE, [14 ... 31] = CTRL,
    [' '] = SPACE, [127] = CTRL,
    ['!' ... '/'] = PUNCT, [':' ... '@'] = PUNCT, ['[' ... '`'] = PUNCT, ['{' ... '~'] = PUNCT,
    ['0' ... '9'] = DIGIT | HEX,
    ['A' ... 'F'] = UPPER | HEX, ['G' ... 'Z'] = UPPER,
    ['a' ... 'f'] = LOWER | HEX, ['g' ... 'z'] = LOWER,
};

/* The classes a letter after '%' names (the upper-case letter names the complement); 0 for
 * any other byte, which then stands for itself. */
static const unsigned char class_letters[256] = {
    ['a'] = UPPER | LOWER, ['c'] = CTRL, ['d'] = DIGIT, ['l'] = LOWER, ['p'] = PUNCT,
    ['s'] = SPACE, ['u'] = UPPER, ['w'] = UPPER | LOWER | DIGIT, ['x'] = HEX, ['z'] = NUL,
    ['A'] = UPPER | LOWER, ['C'] = CTRL, ['D'] = DIGIT, ['L'] = LOWER, ['P'] = PUNCT,
    ['S'] = SPACE, ['U'] = UPPER, ['W'] = UPPER | LOWER | DIGIT, ['X'] = HEX, ['Z'] = NUL,
};

/* '0'-'9', as isdigit has them in the C locale (back-references and replacements). */
#define is_digit(c) ((c) >= '0' && (c) <= '9')

/* Whether byte c is in class %cl. */
static inline int class_matches(int c, int cl) {
    unsigned char classes = class_letters[cl];
    if (!classes) return cl == c;
    int hit = (byte_classes[c] & classes) != 0;
    return cl < 'a' ? !hit : hit;
}

/* Whether byte c is in the set that opens at `open` ('[') and closes at `close` (']'). A
 * '-' makes a range only between two members, the last of which comes before `close`. */
static int set_matches(int c, const char *open, const char *close) {
    const char *p = open + 1;
    int member = 1;
    if (*p == '^') {
        member = 0;
        p++;
    }
    for (; p < close; p++) {
        if (*p == '%') {
            p++;
            if (class_matches(c, (unsigned char)*p)) return member;
        } else if (p[1] == '-' && p + 2 < close) {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2]) return member;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return member;
        }
    }
    return !member;
}

/* The end of the single-character item at p (a byte, '.', %x or a [set]): where its
 * quantifier, if any, is. The first byte of a set is always a member, so "[]]" and "[^]]"
 * are sets of ']'; a '%' inside a set protects the byte after it. */
static const char *item_end(matcher *m, const char *p) {
    switch (*p++) {
    case '%':
        if (*p == '\0') luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    case '[':
        if (*p == '^') p++;
        do {
            if (*p == '\0') luaL_error(m->L, "malformed pattern (missing ']')");
            if (*p++ == '%' && *p != '\0') p++;
        } while (*p != ']');
        return p + 1;
    default:
        return p;
    }
}

/* Whether byte c matches the item from p to ep. */
static inline int item_matches(int c, const char *p, const char *ep) {
    switch (*p) {
    case '.': return 1;
    case '%': return class_matches(c, (unsigned char)p[1]);
    case '[': return set_matches(c, p, ep - 1);
    default: return (unsigned char)*p == c;
    }
}

// MARK: - the matcher

static const char *match_here(matcher *m, const char *s, const char *p);

/* Every recursive step goes through here: it is what is counted and bounded. Inlined, so
 * that the recursion costs one call per step as in Lua's matcher. */
static inline __attribute__((always_inline)) const char *descend(matcher *m, const char *s, const char *p) {
    spend(m, 1);
    if (++m->depth > MAX_DEPTH) luaL_error(m->L, "pattern too complex");
    const char *result = match_here(m, s, p);
    m->depth--;
    return result;
}

/* item* (and item+ after its first byte): takes the longest run, then gives bytes back
 * one at a time until the rest of the pattern matches. */
static const char *longest(matcher *m, const char *s, const char *p, const char *ep) {
    ptrdiff_t n;
    if (*p == '.') {
        n = m->end - s;
    } else {
        n = 0;
        while (s + n < m->end && item_matches((unsigned char)s[n], p, ep)) {
            n++;
            if ((n & 1023) == 0) spend(m, 64);
        }
    }
    for (;; n--) {
        const char *result = descend(m, s + n, ep + 1);
        if (result || n == 0) return result;
    }
}

/* item-: the shortest run after which the rest of the pattern matches. */
static const char *shortest(matcher *m, const char *s, const char *p, const char *ep) {
    for (;;) {
        const char *result = descend(m, s, ep + 1);
        if (result) return result;
        if (s >= m->end || !item_matches((unsigned char)*s, p, ep)) return NULL;
        s++;
    }
}

static const char *open_capture(matcher *m, const char *s, const char *p, ptrdiff_t kind) {
    if (m->level >= MAX_CAPTURES) luaL_error(m->L, "too many captures");
    m->cap[m->level].at = s;
    m->cap[m->level].len = kind;
    m->level++;
    const char *result = descend(m, s, p);
    if (!result) m->level--;
    return result;
}

/* ')' closes the innermost capture still open. */
static const char *close_capture(matcher *m, const char *s, const char *p) {
    int i = m->level - 1;
    while (i >= 0 && m->cap[i].len != CAP_OPEN) i--;
    if (i < 0) luaL_error(m->L, "invalid pattern capture");
    m->cap[i].len = s - m->cap[i].at;
    const char *result = descend(m, s, p);
    if (!result) m->cap[i].len = CAP_OPEN;
    return result;
}

/* %1-%9 (and %0, which is never valid): the text of a closed capture again. A position
 * capture never matches (Lua compares its length as a huge unsigned number). */
static const char *back_reference(matcher *m, const char *s, int digit) {
    int i = digit - '1';
    if (i < 0 || i >= m->level || m->cap[i].len == CAP_OPEN) luaL_error(m->L, "invalid capture index");
    ptrdiff_t len = m->cap[i].len;
    if (len < 0 || m->end - s < len) return NULL;
    spend(m, len >> 6);
    return memcmp(m->cap[i].at, s, (size_t)len) == 0 ? s + len : NULL;
}

/* %bxy at s, with p at x: from an x, through nested x...y pairs, to the y that closes it. */
static const char *balanced(matcher *m, const char *s, const char *p) {
    if (p[0] == '\0' || p[1] == '\0') luaL_error(m->L, "unbalanced pattern");
    if (*s != p[0]) return NULL;
    int depth = 1;
    for (const char *q = s + 1; q < m->end; q++) {
        if (*q == p[1]) {
            if (--depth == 0) return q + 1;
        } else if (*q == p[0]) {
            depth++;
        }
        if (((q - s) & 1023) == 0) spend(m, 64);
    }
    return NULL;
}

/* Matches pattern p at s; returns where the match ends, or NULL. Items that need no
 * backtracking loop here; quantifiers and captures recurse through descend. */
static const char *match_here(matcher *m, const char *s, const char *p) {
    for (;;) {
        switch (*p) {
        case '\0':
            return s;
        case '(':
            if (p[1] == ')') return open_capture(m, s, p + 2, CAP_POSITION);
            return open_capture(m, s, p + 1, CAP_OPEN);
        case ')':
            return close_capture(m, s, p + 1);
        case '$':
            /* An anchor only as the pattern's last byte; elsewhere a plain '$'. */
            if (p[1] == '\0') return s == m->end ? s : NULL;
            break;
        case '%':
            if (p[1] == 'b') {
                s = balanced(m, s, p + 2);
                if (!s) return NULL;
                p += 4;
                continue;
            }
            if (p[1] == 'f') {
                p += 2;
                if (*p != '[') luaL_error(m->L, "missing '[' after '%%f' in pattern");
                const char *ep = item_end(m, p);
                int before = s == m->start ? 0 : (unsigned char)s[-1];
                if (set_matches(before, p, ep - 1) || !set_matches((unsigned char)*s, p, ep - 1)) return NULL;
                p = ep;
                continue;
            }
            if (is_digit(p[1])) {
                s = back_reference(m, s, (unsigned char)p[1]);
                if (!s) return NULL;
                p += 2;
                continue;
            }
            break;
        }
        const char *ep = item_end(m, p);
        int here = s < m->end && item_matches((unsigned char)*s, p, ep);
        switch (*ep) {
        case '?':
            if (here) {
                const char *result = descend(m, s + 1, ep + 1);
                if (result) return result;
            }
            p = ep + 1;
            continue;
        case '*':
            return longest(m, s, p, ep);
        case '+':
            return here ? longest(m, s + 1, p, ep) : NULL;
        case '-':
            return shortest(m, s, p, ep);
        default:
            if (!here) return NULL;
            s++;
            p = ep;
            continue;
        }
    }
}

/* Runs the matcher from s, starting a new match (no captures yet). */
static const char *match_at(matcher *m, const char *s, const char *p) {
    m->level = 0;
    return descend(m, s, p);
}

/* What a match's first byte must be, so that the loops over start positions can skip the
 * starts where the match would fail at once: a fixed byte (found with memchr) or a class or
 * set. Found only once a start has failed: the matcher has then read the same item (so any
 * error in it is raised already), and a loop whose first try matches pays nothing. */
typedef struct {
    enum { FIRST_UNKNOWN, FIRST_ANY, FIRST_BYTE, FIRST_CLASS } kind;
    int byte;
    const char *p, *ep;
} first_item;

static void first_item_find(matcher *m, first_item *f, const char *p) {
    f->kind = FIRST_ANY;
    /* Captures, anchors, %b, %f and back-references are not single-byte items. */
    switch (p[0]) {
    case '\0': case '(': case ')':
        return;
    case '$':
        if (p[1] == '\0') return;
        break;
    case '%':
        if (p[1] == 'b' || p[1] == 'f' || is_digit(p[1])) return;
        break;
    }
    const char *ep = item_end(m, p);
    /* An item that may match nothing says nothing about the first byte. */
    if (*ep == '*' || *ep == '?' || *ep == '-') return;
    f->p = p;
    f->ep = ep;
    if (p[0] == '.' || p[0] == '%' || p[0] == '[') {
        f->kind = FIRST_CLASS;
    } else {
        f->kind = FIRST_BYTE;
        f->byte = (unsigned char)p[0];
    }
}

/* The first start at or after s where a match may begin (given the first item), or NULL
 * when there is none, the end of the subject included (the first item needs a byte). */
static const char *next_start(matcher *m, first_item *f, const char *s, const char *p) {
    if (f->kind == FIRST_UNKNOWN) first_item_find(m, f, p);
    switch (f->kind) {
    case FIRST_BYTE:
        return memchr(s, f->byte, (size_t)(m->end - s));
    case FIRST_CLASS:
        for (; s < m->end; s++) {
            if (item_matches((unsigned char)*s, f->p, f->ep)) return s;
            spend(m, 1);
        }
        return NULL;
    default:
        return s;
    }
}

// MARK: - results

/* Pushes capture i of the match s..e; with no captures, "capture" 0 is the whole match. */
static void push_capture(matcher *m, int i, const char *s, const char *e) {
    if (i >= m->level) {
        if (i != 0) luaL_error(m->L, "invalid capture index");
        lua_pushlstring(m->L, s, (size_t)(e - s));
        return;
    }
    ptrdiff_t len = m->cap[i].len;
    if (len == CAP_OPEN) luaL_error(m->L, "unfinished capture");
    if (len == CAP_POSITION) {
        lua_pushinteger(m->L, m->cap[i].at - m->start + 1);
    } else {
        lua_pushlstring(m->L, m->cap[i].at, (size_t)len);
    }
}

/* Pushes every capture, or the whole match when there are none and s is given (find passes
 * NULL: its positions are the whole match). Returns how many values it pushed. */
static int push_captures(matcher *m, const char *s, const char *e) {
    int count = (m->level == 0 && s) ? 1 : m->level;
    luaL_checkstack(m->L, count, "too many captures");
    for (int i = 0; i < count; i++) push_capture(m, i, s, e);
    return count;
}

// MARK: - find and match

/* find's and match's start position (argument 3, 1-based, negative from the end) as an
 * offset clamped to 0...length. */
static size_t start_offset(lua_State *L, size_t length) {
    ptrdiff_t pos = luaL_optinteger(L, 3, 1);
    if (pos < 0) pos += (ptrdiff_t)length + 1;
    if (pos <= 0) return 0;
    return (size_t)pos - 1 > length ? length : (size_t)pos - 1;
}

/* The first occurrence of the needle in the haystack (an empty needle is at its start):
 * candidates by memchr on the first byte, each compared in full. That is quadratic at
 * worst (a needle of many 'a's and a 'b' in a long run of 'a's), so it polls too. */
static const char *plain_search(lua_State *L, const char *hay, size_t hlen, const char *needle, size_t nlen) {
    if (nlen == 0) return hay;
    if (nlen > hlen) return NULL;
    const char *last = hay + (hlen - nlen);
    ptrdiff_t budget = POLL_INTERVAL;
    for (const char *s = hay; s <= last; s++) {
        s = memchr(s, needle[0], (size_t)(last - s) + 1);
        if (!s) return NULL;
        if (memcmp(s + 1, needle + 1, nlen - 1) == 0) return s;
        budget -= 1 + (ptrdiff_t)(nlen >> 6);
        if (budget < 0) {
            budget = POLL_INTERVAL;
            atoll_lua_poll(L);
        }
    }
    return NULL;
}

static int find_or_match(lua_State *L, int find) {
    size_t slen, plen;
    const char *subject = luaL_checklstring(L, 1, &slen);
    const char *pattern = luaL_checklstring(L, 2, &plen);
    size_t offset = start_offset(L, slen);
    /* strpbrk stops at the pattern's first NUL, as Lua's check does; the plain search then
     * looks for the whole pattern, NULs included. */
    if (find && (lua_toboolean(L, 4) || strpbrk(pattern, SPECIALS) == NULL)) {
        const char *hit = plain_search(L, subject + offset, slen - offset, pattern, plen);
        if (!hit) {
            lua_pushnil(L);
            return 1;
        }
        lua_pushinteger(L, hit - subject + 1);
        lua_pushinteger(L, (lua_Integer)(hit - subject + plen));
        return 2;
    }
    matcher m;
    matcher_init(&m, L, subject, slen);
    int anchored = *pattern == '^';
    if (anchored) pattern++;
    first_item first = {.kind = FIRST_UNKNOWN};
    /* Every start from the offset through the end of the subject (an empty match there). */
    for (const char *s = subject + offset;;) {
        const char *e = match_at(&m, s, pattern);
        if (e) {
            if (!find) return push_captures(&m, s, e);
            lua_pushinteger(L, s - subject + 1);
            lua_pushinteger(L, e - subject);
            return 2 + push_captures(&m, NULL, NULL);
        }
        if (anchored || s == m.end) break;
        s = next_start(&m, &first, s + 1, pattern);
        if (!s) break;
    }
    lua_pushnil(L);
    return 1;
}

static int pattern_find(lua_State *L) { return find_or_match(L, 1); }

static int pattern_match(lua_State *L) { return find_or_match(L, 0); }

// MARK: - gmatch

/* The iterator: upvalues are the subject, the pattern and the offset to go on from. An
 * empty match moves the offset one byte on, so the loop always ends. In Lua 5.1 a leading
 * '^' is an ordinary byte here. */
static int gmatch_next(lua_State *L) {
    size_t slen;
    const char *subject = lua_tolstring(L, lua_upvalueindex(1), &slen);
    const char *pattern = lua_tostring(L, lua_upvalueindex(2));
    matcher m;
    matcher_init(&m, L, subject, slen);
    first_item first = {.kind = FIRST_UNKNOWN};
    const char *s = subject + (size_t)lua_tointeger(L, lua_upvalueindex(3));
    while (s <= m.end) {
        const char *e = match_at(&m, s, pattern);
        if (e) {
            lua_pushinteger(L, e - subject + (e == s));
            lua_replace(L, lua_upvalueindex(3));
            return push_captures(&m, s, e);
        }
        if (s == m.end) break;
        s = next_start(&m, &first, s + 1, pattern);
        if (!s) break;
    }
    return 0;
}

static int pattern_gmatch(lua_State *L) {
    luaL_checkstring(L, 1);
    luaL_checkstring(L, 2);
    lua_settop(L, 2);
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

// MARK: - gsub

/* A string replacement: '%' followed by a digit names a capture (%0 the whole match), by
 * anything else that byte itself. A '%' at the very end adds the NUL that ends every Lua
 * string, as Lua 5.1 does. */
static void add_template(matcher *m, luaL_Buffer *b, const char *s, const char *e) {
    size_t len;
    const char *text = lua_tolstring(m->L, 3, &len);
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '%') {
            luaL_addchar(b, text[i]);
            continue;
        }
        i++;
        unsigned char c = (unsigned char)text[i];
        if (!is_digit(c)) {
            luaL_addchar(b, (char)c);
        } else if (c == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else {
            push_capture(m, c - '1', s, e);
            luaL_addvalue(b);
        }
    }
}

/* Adds the replacement of the match s..e: from the template, the function's result or the
 * table's value; false or nil keep the matched text. */
static void add_replacement(matcher *m, luaL_Buffer *b, const char *s, const char *e) {
    lua_State *L = m->L;
    switch (lua_type(L, 3)) {
    case LUA_TFUNCTION:
        lua_pushvalue(L, 3);
        lua_call(L, push_captures(m, s, e), 1);
        break;
    case LUA_TTABLE:
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
        break;
    default:
        add_template(m, b, s, e);
        return;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        lua_pushlstring(L, s, (size_t)(e - s));
    } else if (!lua_isstring(L, -1)) {
        luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    }
    luaL_addvalue(b);
}

static int pattern_gsub(lua_State *L) {
    size_t slen;
    const char *subject = luaL_checklstring(L, 1, &slen);
    const char *pattern = luaL_checkstring(L, 2);
    int kind = lua_type(L, 3);
    /* The arguments are checked in Lua's order: the count before the replacement's type. */
    int limit = (int)luaL_optinteger(L, 4, (lua_Integer)slen + 1);
    luaL_argcheck(L, kind == LUA_TNUMBER || kind == LUA_TSTRING || kind == LUA_TFUNCTION || kind == LUA_TTABLE, 3,
                  "string/function/table expected");
    int anchored = *pattern == '^';
    if (anchored) pattern++;
    first_item first = {.kind = FIRST_UNKNOWN};
    matcher m;
    matcher_init(&m, L, subject, slen);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    const char *s = subject;
    int count = 0;
    while (count < limit) {
        const char *e = match_at(&m, s, pattern);
        if (e) {
            count++;
            add_replacement(&m, &b, s, e);
        }
        if (e && e > s) {
            s = e;
        } else if (s < m.end) {
            luaL_addchar(&b, *s++);
            if (!e && !anchored) {
                /* Bytes before the next possible start are copied as they are. */
                const char *next = next_start(&m, &first, s, pattern);
                if (!next) break;
                luaL_addlstring(&b, s, (size_t)(next - s));
                s = next;
            }
        } else {
            break;
        }
        if (anchored) break;
    }
    luaL_addlstring(&b, s, (size_t)(m.end - s));
    luaL_pushresult(&b);
    lua_pushinteger(L, count);
    return 2;
}

// MARK: - installation

void atoll_lua_open_patterns(lua_State *L) {
    /* Lua 5.1 built with LUA_COMPAT_GFIND (Debian's, and Redis's) has string.gfind as
     * another name for gmatch: it must not stay the old, unkillable one. */
    lua_getfield(L, -1, "gfind");
    lua_getfield(L, -2, "gmatch");
    int gfind_is_gmatch = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    static const luaL_Reg functions[] = {
        {"find", pattern_find}, {"match", pattern_match}, {"gmatch", pattern_gmatch}, {"gsub", pattern_gsub},
        {NULL, NULL},
    };
    for (const luaL_Reg *f = functions; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
    if (gfind_is_gmatch) {
        lua_getfield(L, -1, "gmatch");
        lua_setfield(L, -2, "gfind");
    }
}
