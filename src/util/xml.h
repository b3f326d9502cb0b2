/* xml.h: text into XML, SVG and HTML documents (loss plots, lineage reports). */
#ifndef DK_UTIL_XML_H
#define DK_UTIL_XML_H

#include <stdio.h>

/* Writes s with <, >, & and " escaped. */
void xml_escape(FILE *f, const char *s);

#endif
