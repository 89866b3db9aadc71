// Runs the @nestjs/swagger CLI plugin under ts-jest, so tests see the same OpenAPI metadata as `nest build`
// (same options as nest-cli.json; bump `version` when they change, it is part of ts-jest's cache key).
const transformer = require('@nestjs/swagger/plugin');

module.exports.name = 'nestjs-swagger-transformer';
module.exports.version = 2;
module.exports.factory = (compiler) =>
  transformer.before(
    { classValidatorShim: true, introspectComments: true, controllerKeyOfComment: 'description', dtoFileNameSuffix: ['.dto.ts'] },
    compiler.program,
  );
