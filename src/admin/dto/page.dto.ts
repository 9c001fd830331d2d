import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, Max, Min, ValidateIf } from 'class-validator';

export const MAX_PAGE_SIZE = 100;
/** Far past any real list; keeps the offset a plain integer for the database. */
const MAX_PAGE = 1_000_000;

/** Absent is fine; anything present is validated. */
export const Optional = () => ValidateIf((_, value) => value !== undefined);

/** Query values arrive as strings; whole numbers become numbers, anything else stays to be refused. */
const ToInt = () =>
  Transform(({ value }) =>
    typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value,
  );

/** `page` and `pageSize` of a list query. */
export class PageQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 1 })
  @Max(MAX_PAGE)
  @Min(1)
  @IsInt({ message: 'must be a whole number' })
  @ToInt()
  page = 1;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 20 })
  @Max(MAX_PAGE_SIZE)
  @Min(1)
  @IsInt({ message: 'must be a whole number' })
  @ToInt()
  pageSize = 20;
}

/** What every page of a list says besides its items. */
export class PageDto {
  @ApiProperty({ type: 'integer', minimum: 1, example: 1 })
  page!: number;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, example: 20 })
  pageSize!: number;

  @ApiProperty({ type: 'integer', minimum: 0, example: 1, description: 'Items on all pages.' })
  total!: number;
}
