import { AppError } from '../../common/errors/app-error';

export class SetupAlreadyCompletedError extends AppError {
  constructor() {
    super(409, 'SETUP_ALREADY_COMPLETED', 'Setup has already been completed; sign in instead.');
  }
}
