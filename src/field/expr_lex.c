/* expr_lex.c - the lexer of Milvus boolean expressions, and the parse
 * error messages in Milvus's words (expr_parse.c parses the tokens).
 *
 * Tokens: names, 64-bit integers and floats, '...' or "..." strings with
 * backslash escapes (\uXXXX included, kept as UTF-8), the operators and
 * punctuation of the grammar, and the keywords and, or, not, in, like,
 * exists, is, null, true, false in any case.  The whole text is cut into
 * an array of tokens in the expression's arena before parsing starts.
 */
#include "field/expr_int.h"

#include "base/text.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One parse error, Milvus's words: where (column, 1-based) and what. */
int xperr(struct parser *p, size_t pos, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	int shown = p->len > 200 ? 200 : (int)p->len;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return mfs_errf(p->err, -EINVAL,
			"cannot parse expression: %.*s%s, error: %s at column %zu",
			shown, p->text, p->len > 200 ? "..." : "", what,
			pos + 1);
}

/* A type error (no position: Milvus words these without one). */
int xterr(struct parser *p, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return mfs_errf(p->err, -EINVAL, "%s", what);
}

static const struct {
	const char *w;
	enum tk k;
} keywords[] = {
	{ "and", T_AND }, { "or", T_OR }, { "not", T_NOT }, { "in", T_IN },
	{ "like", T_LIKE }, { "exists", T_EXISTS }, { "is", T_IS },
	{ "null", T_NULL }, { "true", T_TRUE }, { "false", T_FALSE },
};

static bool is_id0(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       ch == '_' || ch == '$';
}

static bool is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string literal at text[*at] (the quote).  Escapes \n \t \r \b \f \0
 * \\ \' \" \/ \uXXXX decode; any other `\c` stays two bytes, so that
 * `like "100\%"` reaches the pattern with its escape. */
static int lex_string(struct parser *p, size_t *at, struct tok *t)
{
	const char *s = p->text;
	size_t i = *at + 1, start = *at;
	char q = s[*at];
	char *o = xalloc(p->x, p->len - *at + 1);
	size_t n = 0;

	if (!o)
		return -ENOMEM;
	for (;;) {
		if (i >= p->len)
			return xperr(p, start, "unterminated string");
		char ch = s[i];

		if (ch == q) {
			i++;
			break;
		}
		if (ch != '\\' || i + 1 >= p->len) {
			o[n++] = ch;
			i++;
			continue;
		}
		char e = s[i + 1];

		i += 2;
		switch (e) {
		case 'n': o[n++] = '\n'; break;
		case 't': o[n++] = '\t'; break;
		case 'r': o[n++] = '\r'; break;
		case 'b': o[n++] = '\b'; break;
		case 'f': o[n++] = '\f'; break;
		case '0': o[n++] = '\0'; break;
		case '\\': case '\'': case '"': case '/': o[n++] = e; break;
		case 'u': {
			uint32_t cp = 0;

			for (int k = 0; k < 4; k++) {
				int h = i + k < p->len ? mfs_hexval(s[i + k]) : -1;

				if (h < 0)
					return xperr(p, i - 2,
						    "invalid escape \\u in string");
				cp = cp << 4 | (uint32_t)h;
			}
			i += 4;
			n += put_utf8(o + n, cp);
			break;
		}
		default:
			o[n++] = '\\';
			o[n++] = e;
		}
	}
	o[n] = '\0';
	t->k = T_STR;
	t->s = o;
	t->slen = n;
	*at = i;
	return 0;
}

static int lex_number(struct parser *p, size_t *at, struct tok *t)
{
	const char *s = p->text;
	size_t i = *at, start = *at;
	bool flt = false;
	char buf[128];

	if (s[i] == '0' && i + 1 < p->len && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		uint64_t u = 0;
		size_t nd = 0;

		for (i += 2; i < p->len && mfs_hexval(s[i]) >= 0; i++, nd++) {
			if (u >> 60)
				return xperr(p, start, "integer out of range");
			u = u << 4 | (uint64_t)mfs_hexval(s[i]);
		}
		if (!nd)
			return xperr(p, start, "invalid number");
		if (u > (uint64_t)1 << 63)
			return xperr(p, start, "integer out of range");
		t->k = T_INT;
		t->u = u;
		*at = i;
		return 0;
	}
	while (i < p->len && is_digit(s[i]))
		i++;
	if (i < p->len && s[i] == '.') {
		flt = true;
		for (i++; i < p->len && is_digit(s[i]); i++)
			;
	}
	if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;

		if (j < p->len && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j < p->len && is_digit(s[j])) {
			flt = true;
			for (i = j; i < p->len && is_digit(s[i]); i++)
				;
		}
	}
	if (i - start >= sizeof(buf))
		return xperr(p, start, "number too long");
	memcpy(buf, s + start, i - start);
	buf[i - start] = '\0';
	if (flt) {
		t->k = T_FLT;
		t->d = strtod(buf, NULL);
	} else {
		uint64_t u = 0;

		for (size_t k = start; k < i; k++) {
			unsigned dg = (unsigned)(s[k] - '0');

			if (u > (((uint64_t)1 << 63) - dg) / 10)
				return xperr(p, start, "integer %s out of range",
					    buf);
			u = u * 10 + dg;
		}
		t->k = T_INT;
		t->u = u;
	}
	*at = i;
	return 0;
}

int xlex(struct parser *p)
{
	const char *s = p->text;
	size_t i = 0, cap = 0;

	for (;;) {
		while (i < p->len && (s[i] == ' ' || s[i] == '\t' ||
				      s[i] == '\n' || s[i] == '\r'))
			i++;
		if (p->nt == cap) {
			cap = cap ? cap * 2 : 64;
			struct tok *nt = realloc(p->t, cap * sizeof(*nt));

			if (!nt)
				return -ENOMEM;
			p->t = nt;
		}
		struct tok *t = &p->t[p->nt];

		memset(t, 0, sizeof(*t));
		t->pos = i;
		if (i >= p->len) {
			t->k = T_END;
			p->nt++;
			return 0;
		}
		char ch = s[i], c2 = i + 1 < p->len ? s[i + 1] : 0;
		int rc = 0;

		if (is_id0((unsigned char)ch)) {
			size_t j = i + 1;

			while (j < p->len && (is_id0((unsigned char)s[j]) ||
					      is_digit(s[j])))
				j++;
			t->k = T_NAME;
			for (size_t k = 0; k < sizeof(keywords) / sizeof(*keywords); k++)
				if (strlen(keywords[k].w) == j - i &&
				    !strncasecmp(keywords[k].w, s + i, j - i))
					t->k = keywords[k].k;
			t->s = xalloc(p->x, j - i + 1);
			if (!t->s)
				return -ENOMEM;
			memcpy(t->s, s + i, j - i);
			t->slen = j - i;
			i = j;
		} else if (is_digit(ch) || (ch == '.' && is_digit(c2))) {
			rc = lex_number(p, &i, t);
		} else if (ch == '"' || ch == '\'') {
			rc = lex_string(p, &i, t);
		} else {
			enum tk k = T_END;
			int op = 0, w = 1;

			switch (ch) {
			case '(': k = T_LP; break;
			case ')': k = T_RP; break;
			case '[': k = T_LB; break;
			case ']': k = T_RB; break;
			case ',': k = T_COMMA; break;
			case '+': k = T_PLUS; break;
			case '-': k = T_MINUS; break;
			case '*': k = T_STAR; break;
			case '/': k = T_SLASH; break;
			case '%': k = T_PCT; break;
			case '=':
				if (c2 == '=')
					k = T_CMP, op = XO_EQ, w = 2;
				break;
			case '!':
				if (c2 == '=')
					k = T_CMP, op = XO_NE, w = 2;
				else
					k = T_NOT;
				break;
			case '<':
				k = T_CMP, op = XO_LT;
				if (c2 == '=')
					op = XO_LE, w = 2;
				break;
			case '>':
				k = T_CMP, op = XO_GT;
				if (c2 == '=')
					op = XO_GE, w = 2;
				break;
			case '&':
				if (c2 == '&')
					k = T_AND, w = 2;
				break;
			case '|':
				if (c2 == '|')
					k = T_OR, w = 2;
				break;
			}
			if (k == T_END) {
				if ((unsigned char)ch >= 0x20 && (unsigned char)ch < 0x7f)
					return xperr(p, i, "unexpected character '%c'", ch);
				return xperr(p, i, "unexpected byte 0x%02x",
					    (unsigned char)ch);
			}
			t->k = k;
			t->op = op;
			i += (size_t)w;
		}
		if (rc)
			return rc;
		t->len = i - t->pos;
		p->nt++;
	}
}

