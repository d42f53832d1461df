#include "interop.h"
const struct scenario fragment_scenarios[] = {{NULL, NULL, NULL}};
