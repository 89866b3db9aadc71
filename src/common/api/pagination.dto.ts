import { Type as ClassType } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { ApiInteger } from './api-schema';

export class PaginationQueryDto {
  /** Page size, 1–200. */
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200)
  @ApiInteger({ required: false })
  limit?: number = 50;

  /** Opaque cursor from `pagination.next_cursor` of the previous page. */
  @IsOptional() @IsString() @MaxLength(512)
  cursor?: string;
}

export class PaginationMetaDto {
  @ApiInteger()
  limit: number;
  @ApiProperty({ type: String, nullable: true })
  next_cursor: string | null;
  has_more: boolean;
}

const pageClasses = new Map<ClassType, ClassType>();

/** `{data: Item[], pagination}` as a named OpenAPI schema (`<Item>Page`). */
export function PageOf<T>(item: ClassType<T>): ClassType<{ data: T[]; pagination: PaginationMetaDto }> {
  let page = pageClasses.get(item);
  if (!page) {
    class PageDto {
      @ApiProperty({ type: [item] })
      data: T[];

      @ApiProperty({ type: PaginationMetaDto })
      pagination: PaginationMetaDto;
    }
    Object.defineProperty(PageDto, 'name', { value: `${item.name.replace(/Dto$/, '')}Page` });
    page = PageDto;
    pageClasses.set(item, page);
  }
  return page as ClassType<{ data: T[]; pagination: PaginationMetaDto }>;
}
