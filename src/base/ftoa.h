/* ftoa.h - the shortest decimal text of a float that reads back to it.
 *
 * mfs_ftoa(v, out) writes the decimal with the fewest significant digits
 * that strtof() turns back into exactly v, and among those the nearest to
 * v; so 0.1f prints "0.1", not printf's "0.100000001".  The layout is
 * printf's %g with the exponent threshold of %.9g: plain for a decimal
 * exponent X in [-4, 9) ("0.0001", "123456789", "1.5"), otherwise one digit,
 * a point, the rest and e±XX ("1e+09", "1.17549435e-38").  Zero prints
 * "0" or "-0"; inf and nan print as printf does ("inf", "-inf", "nan").
 * At most MFS_FTOA_MAX bytes with the NUL ("-1.17549435e-38" is 15).
 *
 * The common case costs a few double operations and no printf: it finds
 * the digits by exact-enough double arithmetic on the value's rounding
 * interval and falls back to a printf/strtof search (exact by
 * construction) whenever a comparison is too close to call.  The unit
 * test checks it against strtof round trips and a reference search on
 * millions of floats, and `make check-ftoa` on all 2^32 bit patterns.
 *
 * Thread-safe, no allocation.
 */
#ifndef MFS_BASE_FTOA_H
#define MFS_BASE_FTOA_H

#define MFS_FTOA_MAX 32

/* Returns the length written (without the NUL). */
int mfs_ftoa(float v, char *out);

/* The same for a double, laid out as printf's %.Ng does: the shortest of
 * %.15g, %.16g, %.17g that strtod reads back, which is the shortest
 * overall (a decimal of n <= 15 digits that reads back is what %.15g
 * prints); a subnormal tries every precision from 1.  At most
 * MFS_FTOA_MAX bytes with the NUL. */
int mfs_dtoa(double v, char *out);

#endif
