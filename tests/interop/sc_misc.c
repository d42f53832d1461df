#include "interop.h"
const struct scenario misc_scenarios[] = {{NULL, NULL, NULL}};
