import { ValidationError } from 'class-validator';
import { flattenValidationErrors } from './validation';

const error = (property: string, constraints?: Record<string, string>, children: ValidationError[] = []): ValidationError =>
  Object.assign(new ValidationError(), { property, constraints, children });

describe('flattenValidationErrors', () => {
  it('builds snake_case paths with array indices', () => {
    const errors = [error('stages', undefined, [error('0', undefined, [error('required_approvals', { min: 'required_approvals must not be less than 1' })])])];
    expect(flattenValidationErrors(errors)).toEqual([{ field: 'stages[0].required_approvals', issue: 'must not be less than 1' }]);
  });

  it('reports unknown fields as not allowed', () => {
    expect(flattenValidationErrors([error('tenant_id', { whitelistValidation: 'property tenant_id should not exist' })])).toEqual([
      { field: 'tenant_id', issue: 'is not allowed' },
    ]);
  });

  it('keeps one entry per failed constraint', () => {
    const issues = flattenValidationErrors([error('slug', { isString: 'slug must be a string', matches: 'slug must match /x/' })]);
    expect(issues).toHaveLength(2);
  });
});
