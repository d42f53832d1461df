#include "interop.h"
const struct scenario smp_scenarios[] = {{NULL, NULL, NULL}};
