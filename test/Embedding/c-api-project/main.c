/*===- main.c - A C program that runs qopt --------------------------------===*\
|*                                                                            *|
|* Part of the qopt project, under the Apache License v2.0 with LLVM          *|
|* Exceptions.                                                                *|
|*                                                                            *|
|*===----------------------------------------------------------------------===*|
|*                                                                            *|
|* qopt-c-embed MODEL.mlir PIPELINE: registers qopt's dialects and passes     *|
|* through the C API, parses MODEL.mlir, runs the textual PIPELINE and prints *|
|* the result; diagnostics (with their severity) go to stderr.               *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "qopt-c/Dialects.h"
#include "qopt-c/Passes.h"

#include "mlir-c/Diagnostics.h"
#include "mlir-c/IR.h"

#include <stdio.h>
#include <string.h>

static void printTo(MlirStringRef text, void *file) {
  fwrite(text.data, 1, text.length, (FILE *)file);
}

static MlirLogicalResult onDiagnostic(MlirDiagnostic diagnostic, void *count) {
  const char *severity = "note";
  switch (mlirDiagnosticGetSeverity(diagnostic)) {
  case MlirDiagnosticError:
    severity = "error";
    ++*(int *)count;
    break;
  case MlirDiagnosticWarning:
    severity = "warning";
    break;
  case MlirDiagnosticRemark:
    severity = "remark";
    break;
  default:
    break;
  }
  fprintf(stderr, "qopt-c-embed: %s: ", severity);
  mlirDiagnosticPrint(diagnostic, printTo, stderr);
  fprintf(stderr, "\n");
  return mlirLogicalResultSuccess();
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: qopt-c-embed MODEL.mlir PIPELINE\n");
    return 2;
  }
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  qoptRegisterAllDialects(registry);
  qoptRegisterAllPasses();
  MlirContext ctx = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);
  int errors = 0;
  mlirContextAttachDiagnosticHandler(ctx, onDiagnostic, &errors, NULL);

  /* The dialect handles name the dialects they register. */
  MlirStringRef ns =
      mlirDialectHandleGetNamespace(mlirGetDialectHandle__qopt__());
  printf("// dialect: %.*s\n", (int)ns.length, ns.data);

  int status = 1;
  MlirModule module = mlirModuleCreateParseFromFile(
      ctx, mlirStringRefCreateFromCString(argv[1]));
  if (mlirModuleIsNull(module)) {
    fprintf(stderr, "qopt-c-embed: %s does not parse\n", argv[1]);
  } else if (mlirLogicalResultIsFailure(qoptRunPassPipeline(
                 module, mlirStringRefCreateFromCString(argv[2]), printTo,
                 stderr))) {
    fprintf(stderr, "\nqopt-c-embed: the pipeline failed (%d errors)\n",
            errors);
  } else {
    mlirOperationPrint(mlirModuleGetOperation(module), printTo, stdout);
    printf("\n");
    status = 0;
  }
  if (!mlirModuleIsNull(module))
    mlirModuleDestroy(module);
  mlirContextDestroy(ctx);
  return status;
}
