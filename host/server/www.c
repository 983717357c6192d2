/* seqa serve — the dashboard's static files, embedded in the binary at build time.
 *
 * The Makefile turns every file of host/server/www/ into a byte array in
 * build/gen/www_assets.h (xxd -i, like the OpenCL kernels), with a table of names.
 */
#include <stddef.h>
#include <string.h>
#include "server_internal.h"
#include "www_assets.h"

static const char *mime_of(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (!dot) return "application/octet-stream";
	if (strcmp(dot, ".html") == 0) return "text/html; charset=utf-8";
	if (strcmp(dot, ".css") == 0) return "text/css; charset=utf-8";
	if (strcmp(dot, ".js") == 0) return "text/javascript; charset=utf-8";
	if (strcmp(dot, ".svg") == 0) return "image/svg+xml";
	if (strcmp(dot, ".png") == 0) return "image/png";
	if (strcmp(dot, ".ico") == 0) return "image/x-icon";
	return "application/octet-stream";
}

const unsigned char *sq_srv_www(const char *path, size_t *len, const char **mime)
{
	const char *name;
	if (!path || path[0] != '/') return NULL;
	name = path[1] ? path + 1 : "index.html";
	if (strchr(name, '/')) return NULL; /* flat folder: nothing below it */
	for (int i = 0; sq_www_files[i].name; ++i)
		if (strcmp(sq_www_files[i].name, name) == 0) {
			*len = sq_www_files[i].len;
			*mime = mime_of(name);
			return sq_www_files[i].data;
		}
	return NULL;
}
