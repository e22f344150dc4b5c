// Debian's libopenblas-dev: cblas.h with OpenBLAS's own thread controls.
#include <cblas.h>
