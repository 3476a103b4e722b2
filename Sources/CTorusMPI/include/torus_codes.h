/*
 * Element type and op codes shared by the drop-in's C entry points and its Swift side: indices
 * into ElementType.allCases and ReduceOp.allCases (DropInTests checks both orders). Internal to
 * libtorus_mpi.so; programs include torus.h only.
 */
#ifndef TORUS_CODES_H
#define TORUS_CODES_H

enum { TORUS_F32, TORUS_F64, TORUS_F16, TORUS_BF16, TORUS_I8, TORUS_I16, TORUS_I32, TORUS_I64,
       TORUS_U8, TORUS_U16, TORUS_U32, TORUS_U64, TORUS_TYPE_CODES };
enum { TORUS_SUM, TORUS_PROD, TORUS_MIN, TORUS_MAX, TORUS_BAND, TORUS_BOR, TORUS_BXOR, TORUS_LAND, TORUS_LOR,
       TORUS_LXOR, TORUS_OP_CODES };

#endif
