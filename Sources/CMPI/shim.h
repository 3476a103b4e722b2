// CMPI: Open MPI for Swift.
//
// Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are macros that expand to the
// addresses of global objects; Swift cannot import such macros, so each one used by the project
// gets a `static inline` accessor here, named after the C constant it returns.
#ifndef TORUS_CMPI_SHIM_H
#define TORUS_CMPI_SHIM_H

#include <mpi.h>

// Communicators and groups.
static inline MPI_Comm torus_MPI_COMM_WORLD(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm torus_MPI_COMM_SELF(void) { return MPI_COMM_SELF; }
static inline MPI_Comm torus_MPI_COMM_NULL(void) { return MPI_COMM_NULL; }
static inline MPI_Comm_copy_attr_function *torus_MPI_COMM_NULL_COPY_FN(void) { return MPI_COMM_NULL_COPY_FN; }
static inline MPI_Group torus_MPI_GROUP_NULL(void) { return MPI_GROUP_NULL; }

// Datatypes (MPI 3.1 has no 16-bit float types; those travel as MPI_UINT16_T / MPI_BYTE).
static inline MPI_Datatype torus_MPI_FLOAT(void) { return MPI_FLOAT; }
static inline MPI_Datatype torus_MPI_DOUBLE(void) { return MPI_DOUBLE; }
static inline MPI_Datatype torus_MPI_INT8_T(void) { return MPI_INT8_T; }
static inline MPI_Datatype torus_MPI_INT16_T(void) { return MPI_INT16_T; }
static inline MPI_Datatype torus_MPI_INT32_T(void) { return MPI_INT32_T; }
static inline MPI_Datatype torus_MPI_INT64_T(void) { return MPI_INT64_T; }
static inline MPI_Datatype torus_MPI_UINT8_T(void) { return MPI_UINT8_T; }
static inline MPI_Datatype torus_MPI_UINT16_T(void) { return MPI_UINT16_T; }
static inline MPI_Datatype torus_MPI_UINT32_T(void) { return MPI_UINT32_T; }
static inline MPI_Datatype torus_MPI_UINT64_T(void) { return MPI_UINT64_T; }
static inline MPI_Datatype torus_MPI_INT(void) { return MPI_INT; }
static inline MPI_Datatype torus_MPI_LONG(void) { return MPI_LONG; }
static inline MPI_Datatype torus_MPI_CHAR(void) { return MPI_CHAR; }
static inline MPI_Datatype torus_MPI_BYTE(void) { return MPI_BYTE; }
static inline MPI_Datatype torus_MPI_DATATYPE_NULL(void) { return MPI_DATATYPE_NULL; }

// Reduction operations.
static inline MPI_Op torus_MPI_SUM(void) { return MPI_SUM; }
static inline MPI_Op torus_MPI_PROD(void) { return MPI_PROD; }
static inline MPI_Op torus_MPI_MIN(void) { return MPI_MIN; }
static inline MPI_Op torus_MPI_MAX(void) { return MPI_MAX; }
static inline MPI_Op torus_MPI_BAND(void) { return MPI_BAND; }
static inline MPI_Op torus_MPI_BOR(void) { return MPI_BOR; }
static inline MPI_Op torus_MPI_BXOR(void) { return MPI_BXOR; }
static inline MPI_Op torus_MPI_LAND(void) { return MPI_LAND; }
static inline MPI_Op torus_MPI_LOR(void) { return MPI_LOR; }
static inline MPI_Op torus_MPI_LXOR(void) { return MPI_LXOR; }
static inline MPI_Op torus_MPI_OP_NULL(void) { return MPI_OP_NULL; }

// Special buffer and status addresses, and null request.
static inline void *torus_MPI_IN_PLACE(void) { return MPI_IN_PLACE; }
static inline MPI_Status *torus_MPI_STATUS_IGNORE(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Status *torus_MPI_STATUSES_IGNORE(void) { return MPI_STATUSES_IGNORE; }
static inline MPI_Request torus_MPI_REQUEST_NULL(void) { return MPI_REQUEST_NULL; }

// Integer constants that are macros in some MPI implementations.
static inline int torus_MPI_SUCCESS(void) { return MPI_SUCCESS; }
static inline int torus_MPI_UNDEFINED(void) { return MPI_UNDEFINED; }
static inline int torus_MPI_ANY_SOURCE(void) { return MPI_ANY_SOURCE; }
static inline int torus_MPI_ANY_TAG(void) { return MPI_ANY_TAG; }
static inline MPI_Info torus_MPI_INFO_NULL(void) { return MPI_INFO_NULL; }
static inline int torus_MPI_THREAD_FUNNELED(void) { return MPI_THREAD_FUNNELED; }
static inline int torus_MPI_THREAD_SERIALIZED(void) { return MPI_THREAD_SERIALIZED; }
static inline int torus_MPI_THREAD_MULTIPLE(void) { return MPI_THREAD_MULTIPLE; }
static inline int torus_MPI_MAX_ERROR_STRING(void) { return MPI_MAX_ERROR_STRING; }
static inline MPI_Errhandler torus_MPI_ERRORS_RETURN(void) { return MPI_ERRORS_RETURN; }


#endif
