import { ApiProperty } from '@nestjs/swagger';

export class ErrorBody {
  /** Stable, machine-readable code, e.g. `VALIDATION_FAILED`. */
  @ApiProperty({ example: 'VALIDATION_FAILED' })
  code: string;

  /** Human-readable explanation. */
  @ApiProperty({ example: 'The request is invalid.' })
  message: string;

  /** For validation errors `[{field, issue}]`; other codes document their own shape. */
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true }, nullable: true, example: [{ field: 'name', issue: 'must be a string' }] })
  details: Record<string, unknown>[] | null;

  /** The request id, also in the `X-Request-ID` response header. */
  @ApiProperty({ example: '6f1c2b9e-4a7d-4c39-9a55-0f6d3b2c1e8a' })
  request_id: string;
}

/** The shape of every error response. */
export class ErrorEnvelope {
  @ApiProperty({ type: ErrorBody })
  error: ErrorBody;
}
