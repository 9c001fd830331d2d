import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { ExcludesCharacters, LengthInCodePoints, Trim } from '../../common/validation.js';
import { Optional, PageQueryDto } from './page.dto.js';

export class ListUsersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    maxLength: 254,
    example: 'ada',
    description:
      'Matches accounts whose email or name contains it, ignoring case; every character is literal ' +
      '(`%`, `_`, `\\` and quotes included).',
  })
  @ExcludesCharacters('searchCharacters', /[\p{Cc}\p{Cs}]/u, 'must not contain control characters')
  @LengthInCodePoints(0, 254)
  @IsString()
  @Optional()
  @Trim()
  q?: string;
}
