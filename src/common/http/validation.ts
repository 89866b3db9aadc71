import { ValidationPipe } from '@nestjs/common';
import { ValidationError } from 'class-validator';
import { FieldIssue, ValidationFailedError } from '../errors/app-error';

function issueText(property: string, message: string): string {
  if (message.startsWith(`property ${property} should not exist`)) return 'is not allowed';
  // class-validator prefixes messages with the property name ("name must be a string"); the field is named apart.
  return message.startsWith(`${property} `) ? message.slice(property.length + 1) : message;
}

/** Flattens nested class-validator errors into `[{field: "stages[0].required_approvals", issue}]`. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const error of errors) {
    const field = /^\d+$/.test(error.property)
      ? `${parent}[${error.property}]`
      : parent
        ? `${parent}.${error.property}`
        : error.property;
    for (const message of Object.values(error.constraints ?? {})) issues.push({ field, issue: issueText(error.property, message) });
    if (error.children?.length) issues.push(...flattenValidationErrors(error.children, field));
  }
  return issues;
}

/** The one global pipe: whitelist, refuse unknown fields, transform to DTO classes. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationFailedError(flattenValidationErrors(errors)),
  });
}
