import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from './src/common/db/data-source-options';

/** The DataSource for the TypeORM CLI (`npx typeorm -d dist/ormconfig.js migration:run`). Needs DATABASE_URL. */
const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL must be set for the TypeORM CLI');
export default new DataSource(buildDataSourceOptions(url));
